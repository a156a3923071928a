// Repeats a page's refresh while it is shown: every `ms` after the previous one finished (never
// two at once), and at once when the tab becomes visible again. Returns the stop function.
export function every(ms, refresh) {
  let stopped = false;
  let timer = null;
  const run = async () => {
    if (stopped) return;
    clearTimeout(timer);
    try {
      await refresh();
    } finally {
      if (!stopped) timer = setTimeout(run, document.hidden ? ms * 5 : ms);
    }
  };
  const onVisible = () => !document.hidden && run();
  document.addEventListener("visibilitychange", onVisible);
  void run();
  return () => {
    stopped = true;
    clearTimeout(timer);
    document.removeEventListener("visibilitychange", onVisible);
  };
}
