/**
 * The API reference at GET /docs: one self-contained page (no CDN, no external file) that reads
 * openapi.json and lists every operation by tag, with its parameters, request body, responses and
 * their schemas ($refs expanded on demand). It builds DOM nodes, never HTML strings from the document.
 */

const style = `
*{box-sizing:border-box}body{margin:0;font:14px/1.45 system-ui,sans-serif;color:#1d2330;background:#f6f7f9}
header{padding:14px 24px;background:#1d2330;color:#fff;display:flex;gap:16px;align-items:center}
header h1{font-size:18px;margin:0}header input{flex:1;max-width:420px;padding:6px 10px;border-radius:4px;border:0}
main{display:flex}nav{width:230px;padding:16px;position:sticky;top:0;height:100vh;overflow:auto}
nav a{display:block;color:#1d2330;text-decoration:none;padding:2px 0}#ops{flex:1;padding:16px 24px;max-width:1100px}
section h2{margin:24px 0 8px;font-size:17px}details.op{background:#fff;border:1px solid #dde1e7;border-radius:6px;margin:6px 0}
details.op>summary{cursor:pointer;padding:8px 12px;display:flex;gap:10px;align-items:baseline;list-style:none}
.m{font:bold 12px monospace;padding:2px 6px;border-radius:3px;color:#fff;min-width:58px;text-align:center}
.get{background:#2f7de1}.post{background:#2a9d5c}.put{background:#c98a14}.patch{background:#8a5cc9}.delete{background:#d04545}
.p{font-family:monospace;word-break:break-all}.s{color:#5b6472}.body{padding:4px 16px 12px}
table{border-collapse:collapse;width:100%;margin:4px 0}td,th{border-bottom:1px solid #eef0f3;padding:4px 6px;text-align:left;vertical-align:top}
code,.schema{font-family:monospace;font-size:12px}.schema{margin-left:14px}.schema summary{cursor:pointer}
.status{font-weight:bold}.muted{color:#8a93a1}`;

const script = `
const $ = (tag, attrs = {}, ...children) => {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) k === "class" ? (el.className = v) : el.setAttribute(k, v);
  for (const c of children) if (c !== null && c !== undefined) el.append(c);
  return el;
};
let doc;
const resolve = (s) => (s && s.$ref ? doc.components.schemas[s.$ref.split("/").pop()] : s);
const typeOf = (s) => {
  if (!s) return "any";
  if (s.$ref) return s.$ref.split("/").pop();
  if (s.anyOf || s.oneOf) return (s.anyOf || s.oneOf).map(typeOf).join(" | ");
  if (s.const !== undefined) return JSON.stringify(s.const);
  if (s.enum) return s.enum.map((e) => JSON.stringify(e)).join(" | ");
  const t = Array.isArray(s.type) ? s.type.join(" | ") : s.type || "any";
  return t === "array" ? typeOf(s.items) + "[]" : t;
};
function schemaView(schema, depth = 0) {
  const s = resolve(schema);
  const box = $("div", { class: "schema" });
  const kids = [];
  if (s && s.properties) {
    for (const [name, p] of Object.entries(s.properties)) {
      const req = (s.required || []).includes(name) ? "" : "?";
      kids.push([name + req + ": " + typeOf(p), p]);
    }
  }
  if (s && s.type === "array" && s.items) kids.push(["items: " + typeOf(s.items), s.items]);
  for (const alt of (s && (s.oneOf || s.anyOf)) || []) if (alt.type !== "null") kids.push(["one of: " + typeOf(alt), alt]);
  if (s && s.additionalProperties && typeof s.additionalProperties === "object") kids.push(["{name}: " + typeOf(s.additionalProperties), s.additionalProperties]);
  for (const [label, sub] of kids) {
    const r = resolve(sub);
    const nested = r && (r.properties || r.items || r.oneOf || r.anyOf || typeof r.additionalProperties === "object");
    const text = label + (r && r.description ? "  — " + r.description : "");
    if (nested && depth < 8) {
      const d = $("details", {}, $("summary", {}, text));
      d.addEventListener("toggle", () => { if (d.open && d.children.length === 1) d.append(schemaView(sub, depth + 1)); }, { once: true });
      box.append(d);
    } else box.append($("div", {}, text));
  }
  return box;
}
function contentView(content) {
  const out = $("div");
  for (const [type, { schema }] of Object.entries(content || {})) {
    out.append($("div", {}, $("code", {}, type), " ", $("span", { class: "muted" }, typeOf(schema))), schemaView(schema));
  }
  return out;
}
function operationView(path, method, op) {
  const body = $("div", { class: "body" });
  if (op.description) body.append($("p", {}, op.description));
  if (op.parameters && op.parameters.length) {
    const rows = op.parameters.map((p) => $("tr", {}, $("td", {}, $("code", {}, p.name)), $("td", {}, p.in),
      $("td", {}, typeOf(p.schema)), $("td", {}, p.required ? "required" : ""), $("td", {}, p.description || "")));
    body.append($("h4", {}, "Parameters"), $("table", {}, ...rows));
  }
  if (op.requestBody) body.append($("h4", {}, "Request body"), contentView(op.requestBody.content));
  body.append($("h4", {}, "Responses"));
  for (const [status, r] of Object.entries(op.responses)) {
    body.append($("div", {}, $("span", { class: "status" }, status), " ", r.description || ""), contentView(r.content));
  }
  const d = $("details", { class: "op", "data-search": (method + " " + path + " " + (op.summary || "")).toLowerCase() },
    $("summary", {}, $("span", { class: "m " + method }, method.toUpperCase()), $("span", { class: "p" }, path),
      $("span", { class: "s" }, op.summary || "")), body);
  return d;
}
async function main() {
  doc = await (await fetch("openapi.json")).json();
  document.title = doc.info.title + " API reference";
  document.getElementById("title").textContent = doc.info.title + " " + doc.info.version;
  const byTag = new Map(doc.tags.map((t) => [t.name, []]));
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      const tag = (op.tags && op.tags[0]) || "Other";
      if (!byTag.has(tag)) byTag.set(tag, []);
      byTag.get(tag).push(operationView(path, method, op));
    }
  }
  const nav = document.getElementById("nav");
  const ops = document.getElementById("ops");
  ops.append($("p", {}, doc.info.summary || ""), $("p", { class: "muted" }, doc.info.description || ""));
  let i = 0;
  for (const [tag, views] of byTag) {
    if (!views.length) continue;
    const id = "tag-" + i++;
    nav.append($("a", { href: "#" + id }, tag + " (" + views.length + ")"));
    ops.append($("section", { id }, $("h2", {}, tag), ...views));
  }
  document.getElementById("filter").addEventListener("input", (e) => {
    const q = e.target.value.toLowerCase();
    for (const op of document.querySelectorAll("details.op")) op.style.display = op.dataset.search.includes(q) ? "" : "none";
    for (const section of document.querySelectorAll("section")) {
      section.style.display = section.querySelector("details.op:not([style*=none])") ? "" : "none";
    }
  });
}
main().catch((e) => { document.getElementById("ops").textContent = "Cannot load openapi.json: " + e; });`;

export const docsPage = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>API reference</title><link rel="icon" href="data:,"><style>${style}</style></head>
<body>
<header><h1 id="title">API reference</h1><input id="filter" placeholder="Filter: method, path or summary" aria-label="Filter operations"></header>
<main><nav id="nav"></nav><div id="ops"></div></main>
<script>${script}</script>
</body>
</html>
`;
