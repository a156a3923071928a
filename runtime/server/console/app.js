// The console's shell: who is signed in, the navigation, and the page for the address's hash.
//   #/jobs  #/jobs/ID  #/runbooks  #/runbooks/NAME  #/workers  #/schedules
// A page is a function (view, ctx) that fills `view` and returns a stop function (called when
// the person leaves the page: it ends the page's polling and event streams).
import { session, signOut, whenSignedOut } from "./api.js";
import { fill, h } from "./dom.js";
import { tick } from "./time.js";
import { jobPage } from "./pages/job.js";
import { jobsPage } from "./pages/jobs.js";
import { runbooksPage } from "./pages/runbooks.js";
import { schedulesPage } from "./pages/schedules.js";
import { signInPage } from "./pages/sign-in.js";
import { workersPage } from "./pages/workers.js";

const view = document.getElementById("view");
const nav = document.getElementById("nav");
const who = document.getElementById("who");
let me = null;
let stopPage = () => {};

/** The page for a hash, and its arguments. */
function route(hash) {
  const parts = hash.replace(/^#\/?/, "").split("/").map(decodeURIComponent);
  switch (parts[0]) {
    case "jobs":
      return parts[1] ? ["jobs", jobPage, parts.slice(1).join("/")] : ["jobs", jobsPage];
    case "runbooks":
      return ["runbooks", runbooksPage, parts[1]];
    case "workers":
      return ["workers", workersPage];
    case "schedules":
      return ["schedules", schedulesPage];
    default:
      return null;
  }
}

async function show() {
  stopPage();
  stopPage = () => {};
  if (!me) me = await session();
  if (!me) {
    nav.hidden = true;
    fill(who);
    stopPage = signInPage(view, { signedIn: (s) => ((me = s), render()) }) ?? (() => {});
    return;
  }
  nav.hidden = false;
  fill(who, h("span", { class: "muted" }, `${me.name} (${me.role}) `), h("button", { class: "link", onclick: () => signOut().then(() => ((me = null), render())) }, "Sign out"));
  const found = route(location.hash);
  if (!found) {
    location.hash = "#/jobs";
    return;
  }
  const [name, page, arg] = found;
  for (const a of nav.querySelectorAll("a")) a.classList.toggle("current", a.dataset.page === name);
  fill(view);
  stopPage = page(view, { me, arg }) ?? (() => {});
}

/** Shows the page for the address; a failure (the server unreachable) is said on the page. */
function render() {
  show().catch((e) => fill(view, h("p", { class: "error" }, `The console cannot reach the server: ${e.message}. Reload the page to try again.`)));
}

whenSignedOut(() => {
  me = null;
  render();
});
window.addEventListener("hashchange", render);
setInterval(() => tick(), 1000);
render();
