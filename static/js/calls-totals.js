// The calls page shows its rows at once; a number or outcome filter's totals are added up by
// a request of their own (customer:calls_totals) and put in place of the placeholder. Without
// JavaScript the placeholder links the same page with the totals in it.
(function () {
  var slot = document.getElementById("calls-totals");
  if (!slot || !slot.dataset.src) { return; }
  fetch(slot.dataset.src, { credentials: "same-origin", headers: { "Accept": "text/html" } })
    .then(function (response) {
      if (!response.ok) { throw new Error("HTTP " + response.status); }
      return response.text();
    })
    .then(function (html) {
      var part = new DOMParser().parseFromString(html, "text/html").getElementById("calls-totals");
      if (part) { slot.replaceWith(part); }
    })
    .catch(function () {
      var link = document.createElement("a");
      link.href = window.location.search + "&totals=1";
      link.textContent = slot.dataset.retry || "Show the totals";
      slot.querySelector("p").replaceChildren(link);
    });
})();
