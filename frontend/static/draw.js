// The supervisor's contribution to a draw: 32 random bytes from the browser's own generator,
// written into the field as hex, so the platform never chooses it. The supervisor may replace
// it with a value of its own before sending.
(function () {
  "use strict";
  function hex(bytes) {
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }
  document.querySelectorAll("input[data-random-hex]").forEach(function (input) {
    var n = parseInt(input.getAttribute("data-random-hex"), 10) || 32;
    function fill() {
      var bytes = new Uint8Array(n);
      window.crypto.getRandomValues(bytes);
      input.value = hex(bytes);
    }
    if (!input.value) { fill(); }
    var again = document.createElement("button");
    again.type = "button";
    again.className = "btn small";
    again.textContent = input.closest("form").getAttribute("data-again") || "↻";
    again.setAttribute("data-testid", "contribution-again");
    again.addEventListener("click", fill);
    input.insertAdjacentElement("afterend", again);
  });
})();
