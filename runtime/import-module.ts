// `import(url)` for activity modules, as its own module so that runtime/activities.ts can load
// it only after registering tsx's loaders. Run from the compiled build, tsx 4 turns a `.ts`
// module that loads as CommonJS into its named exports only when the module importing it was
// itself loaded through tsx's hooks (measured: imported from a module loaded before
// `register()`, the same file yields only `default`). Import this file nowhere else, and only
// dynamically.
export function importModule(url: string): Promise<Record<string, unknown>> {
  return import(url) as Promise<Record<string, unknown>>;
}
