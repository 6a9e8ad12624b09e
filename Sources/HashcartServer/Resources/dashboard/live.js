// Live updates for an offer's page: the funnel's numbers from server-sent events. The page works
// without this script; it only refreshes the numbers while a sale runs. Values are set as text.
(function () {
  var box = document.getElementById("live");
  if (!box || !window.EventSource) return;
  var source = new EventSource(box.getAttribute("data-source"));
  source.addEventListener("funnel", function (event) {
    var values;
    try { values = JSON.parse(event.data); } catch (e) { return; }
    Object.keys(values).forEach(function (metric) {
      document.querySelectorAll('[data-metric="' + metric.replace(/[^a-z_.]/g, "") + '"]').forEach(function (cell) {
        cell.textContent = String(values[metric]);
      });
    });
  });
})();
