// grader: typesets the matrices of the page (elements with data-tex, see api/pages/kit/notation.py)
// with the vendored KaTeX, when the page loads and whenever a part of it changes (htmx swapping in
// how an answer is read). Without JavaScript the matrices stay as written.
(function () {
  "use strict";
  function typeset(root) {
    if (!window.katex || !root.querySelectorAll) return;
    root.querySelectorAll("[data-tex]:not([data-typeset])").forEach(function (element) {
      element.setAttribute("data-typeset", "");
      try {
        window.katex.render(element.getAttribute("data-tex"), element, { throwOnError: false });
      } catch (error) {
        // the text as written stays
      }
    });
  }
  function start() {
    typeset(document);
    new MutationObserver(function (changes) {
      changes.forEach(function (change) { typeset(change.target); });
    }).observe(document.body, { childList: true, subtree: true });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
