// A benchmark's numeric options: `--jobs 5000` on its own command line, else the environment
// (`BENCH_JOBS=5000`; `npm run bench -- NAME` cannot pass flags through), else the default.
const argv = process.argv.slice(2);

export function option(name: string, dflt: number): number {
  const i = argv.indexOf(`--${name}`);
  if (i >= 0) return Number(argv[i + 1]);
  return Number(process.env[`BENCH_${name.toUpperCase().replace(/-/g, "_")}`] ?? dflt);
}
