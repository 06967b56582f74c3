// Starts ReDoc on /redoc. Kept out of the page so the CSP can forbid inline script.
"use strict";
(function () {
  var root = document.getElementById("redoc");
  Redoc.init(root.dataset.openapiUrl, {}, root);
})();
