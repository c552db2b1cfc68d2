// Shows a Kafka topic live through Wharf's topic event stream (GET /topics/{topic}/stream).
// EventSource reconnects by itself and sends Last-Event-ID, so the gateway resumes right after
// the last record shown, on whichever node the load balancer picks.

const MAX_ROWS = 500;
const form = document.getElementById("controls");
const status = document.getElementById("status");
const rows = document.getElementById("records");
let source = null;

function setStatus(state, text) {
  status.dataset.state = state;
  status.textContent = text;
}

function show(value) {
  if (value === null || value === undefined) return "";
  return typeof value === "string" ? value : JSON.stringify(value);
}

function addRecord(record) {
  const row = document.createElement("tr");
  row.className = "record";
  const cells = [
    record.partition,
    record.offset,
    record.timestamp ? new Date(record.timestamp).toISOString() : "",
    show(record.key),
    show(record.value),
  ];
  cells.forEach((text, i) => {
    const cell = document.createElement("td");
    if (i === 4) cell.className = "value";
    cell.textContent = String(text);
    row.appendChild(cell);
  });
  rows.prepend(row);
  while (rows.childElementCount > MAX_ROWS) rows.lastElementChild.remove();
}

function watch(params) {
  if (source) source.close();
  rows.replaceChildren();
  const query = new URLSearchParams({ from: params.from, format: params.format });
  if (params.partitions) query.set("partitions", params.partitions);
  const url = `/topics/${encodeURIComponent(params.topic)}/stream?${query}`;
  setStatus("connecting", `Connecting to ${params.topic}...`);
  source = new EventSource(url);
  source.onopen = () => setStatus("open", `Watching ${params.topic}`);
  source.onmessage = (event) => addRecord(JSON.parse(event.data));
  // Named "error" events come from the gateway (e.g. a slow reader dropped); plain error
  // events are the connection's, after which EventSource retries unless the answer was not 200.
  source.addEventListener("error", (event) => {
    if (event.data) {
      const { reason, message } = JSON.parse(event.data);
      setStatus("error", `${reason}: ${message}`);
    } else if (source.readyState === EventSource.CLOSED) {
      setStatus("error", "The gateway refused the stream (unknown topic or partition?)");
    } else {
      setStatus("connecting", "Reconnecting...");
    }
  });
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  const data = new FormData(form);
  const params = Object.fromEntries(data.entries());
  history.replaceState(null, "", `?${new URLSearchParams(params)}`);
  watch(params);
});

// ?topic=orders&from=earliest starts at once (links, bookmarks, tests).
const initial = new URLSearchParams(location.search);
for (const [name, value] of initial) {
  if (form.elements[name]) form.elements[name].value = value;
}
if (initial.get("topic")) watch(Object.fromEntries(new FormData(form).entries()));
