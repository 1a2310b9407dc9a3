// The LTI pages' one script.
// * A deep-linking answer posts itself back to the platform (its button does the same without it).
// * Platform storage (1EdTech "LTI Client Side postMessages"): at the login the state is put in the
//   platform's storage frame, then the browser goes on to the platform; at the launch it is read
//   back and posted to /lti/launch/confirm. Messages go to, and are accepted from, the platform's
//   origin only.
// * A dynamic registration's last page tells the platform to close it.
"use strict";
var STORAGE_ANSWER_MS = 10000;
document.querySelectorAll("form[data-autopost]").forEach(function (form) {
  form.submit();
});
document.querySelectorAll("[data-lti-storage]").forEach(function (element) {
  var mode = element.dataset.ltiStorage;
  var origin = element.dataset.origin;
  var target = element.dataset.target;
  var frame = target === "_parent" ? window.parent : window.parent.frames[target];
  var id = "m" + Math.random().toString(36).slice(2);
  var message = { subject: "lti." + mode + "_data", message_id: id, key: element.dataset.key };
  if (mode === "put") {
    message.value = element.dataset.value;
  }
  function failed() {
    var note = document.querySelector(".lti-storage-error");
    if (note) {
      note.hidden = false;
    }
  }
  // A platform answers at once (its page holds the storage); one that never does is told as a
  // failure rather than left as a blank frame.
  var unanswered = window.setTimeout(failed, STORAGE_ANSWER_MS);
  window.addEventListener("message", function (event) {
    var data = event.data;
    if (event.origin !== origin || !data || data.message_id !== id || data.subject !== message.subject + ".response") {
      return;
    }
    window.clearTimeout(unanswered);
    if (data.error) {
      failed();
    } else if (mode === "put") {
      window.location.href = element.dataset.next;
    } else {
      element.querySelector("input[name=value]").value = data.value || "";
      element.submit();
    }
  });
  if (!frame) {
    failed();
    return;
  }
  frame.postMessage(message, origin);
});
// Dynamic registration done: the platform's window (the opener of a popup, or the parent of a frame)
// is told to close the tool's registration page (1EdTech "LTI Dynamic Registration", 3.6).
document.querySelectorAll("[data-lti-close]").forEach(function (element) {
  var platform = window.opener || (window.parent !== window ? window.parent : null);
  if (platform) {
    platform.postMessage({ subject: "org.imsglobal.lti.close" }, element.dataset.origin || "*");
  }
});
