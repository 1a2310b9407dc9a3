// The LTI pages' one script: a deep-linking answer posts itself back to the platform (the page's
// button does the same without JavaScript).
"use strict";
document.querySelectorAll("form[data-autopost]").forEach(function (form) {
  form.submit();
});
