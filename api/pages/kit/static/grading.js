// The grading page's keyboard: an item's key toggles it, Enter saves and opens the next ungraded
// answer (Ctrl+Enter or Cmd+Enter inside the comment), the arrows go to the previous or next
// answer, Escape leaves a text box. Without JavaScript the page works by mouse alone.
(function () {
  "use strict";
  var form = document.getElementById("grading-form");
  if (!form) {
    return;
  }
  // The running total: the other parts' points (from the page) plus this part's as marked now,
  // the rubric's sum and the adjustment kept between 0 and the part's points, as the service scores it.
  var total = document.getElementById("running-total");
  function shown(value) {
    return Number.isInteger(value) ? String(value) : String(parseFloat(value.toPrecision(3)));
  }
  function retotal() {
    if (!total) {
      return;
    }
    var sum = Number(form.querySelector("#adjustment").value) || 0;
    form.querySelectorAll("input[name=item]:checked").forEach(function (box) {
      sum += Number(box.dataset.points) || 0;
    });
    var part = Math.round(Math.min(Math.max(sum, 0), Number(total.dataset.max)) * 1e6) / 1e6;
    document.getElementById("part-score").textContent = shown(part);
    document.getElementById("total-score").textContent = shown(Math.round((Number(total.dataset.others) + part) * 1e6) / 1e6);
  }
  form.addEventListener("input", retotal);
  form.addEventListener("change", retotal);
  retotal();
  function typing(target) {
    return target instanceof HTMLElement && target.matches("textarea, input[type=text], input[type=number]");
  }
  function go(id) {
    var link = document.getElementById(id);
    if (link) {
      window.location.assign(link.href);
    }
  }
  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (event.key === "Escape" && typing(target)) {
      target.blur();
      return;
    }
    if (event.key === "Enter") {
      var inText = typing(target);
      var chord = event.ctrlKey || event.metaKey;
      if ((!inText && !(target instanceof HTMLButtonElement) && !(target instanceof HTMLAnchorElement)) || chord) {
        if (inText && !form.contains(target)) {
          return; // another form's text box (a reply): its own Enter
        }
        event.preventDefault();
        form.requestSubmit();
      }
      return;
    }
    if (typing(target) || event.altKey || event.ctrlKey || event.metaKey) {
      return;
    }
    if (event.key === "ArrowLeft") {
      go("prev-link");
      return;
    }
    if (event.key === "ArrowRight") {
      go("next-link");
      return;
    }
    var boxes = form.querySelectorAll("input[name=item][data-key]");
    for (var i = 0; i < boxes.length; i += 1) {
      if (boxes[i].dataset.key === event.key) {
        event.preventDefault();
        boxes[i].checked = !boxes[i].checked;
        retotal();
        return;
      }
    }
  });
})();
