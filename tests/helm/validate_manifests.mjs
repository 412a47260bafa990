// Validates Kubernetes manifests against the Kubernetes API's schemas, offline.
//
//   node validate_manifests.mjs TOOLS_DIR MANIFESTS.json
//
// MANIFESTS.json is a JSON array of objects (tests/helm converts `helm template`
// output with python3-yaml). TOOLS_DIR is .local/helm-npm, installed by
// tools/install-helm.sh. Two checks per object, like an API server with
// `kubectl apply --validate=strict`:
//
//   1. schema: kubernetes-models (JSON schemas compiled from the Kubernetes OpenAPI
//      spec; @kubernetes-models/prometheus-operator for ServiceMonitor): types,
//      required fields, enums, formats.
//   2. unknown fields: those schemas allow any extra property, so every field is also
//      looked up in the model classes of @kubernetes/client-node (generated from the
//      same OpenAPI spec), recursively. Custom resources have no such classes and get
//      check 1 only.
//
// Prints one line per problem and exits 1 if there is any, 2 on bad usage.
import { readFileSync, existsSync } from "node:fs";
import { pathToFileURL } from "node:url";
import path from "node:path";

const [toolsDir, manifestsPath] = process.argv.slice(2);
if (!toolsDir || !manifestsPath) {
  console.error("usage: node validate_manifests.mjs TOOLS_DIR MANIFESTS.json");
  process.exit(2);
}
const modules = path.join(toolsDir, "node_modules");
const clientModels = path.join(toolsDir, "k8s-client-models");

// apiVersion -> [module folder, client-node class prefix]
function locate(apiVersion, kind) {
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
  const prefix = version.charAt(0).toUpperCase() + version.slice(1);
  if (group === "monitoring.coreos.com") {
    return {
      model: path.join(modules, "@kubernetes-models/prometheus-operator", group, version, `${kind}.js`),
      client: null,
    };
  }
  const folder = group === "" ? version : path.join(group, version);
  return {
    model: path.join(modules, "kubernetes-models", folder, `${kind}.js`),
    client: `${prefix}${kind}`,
  };
}

const classCache = new Map();
async function clientClass(type) {
  if (classCache.has(type)) return classCache.get(type);
  const file = path.join(clientModels, `${type}.js`);
  let cls = null;
  if (/^[A-Za-z0-9]+$/.test(type) && existsSync(file)) {
    const mod = await import(pathToFileURL(file).href);
    cls = mod[type] ?? null;
  }
  classCache.set(type, cls);
  return cls;
}

// Walks `value` as an instance of the client-node type `type`.
async function unknownFields(value, type, where, problems) {
  if (value === null || value === undefined) return;
  let m;
  if ((m = /^Array<(.+)>$/.exec(type))) {
    if (!Array.isArray(value)) return;  // the schema check reports the type
    for (let i = 0; i < value.length; i++) {
      await unknownFields(value[i], m[1], `${where}[${i}]`, problems);
    }
    return;
  }
  if ((m = /^\{ \[key: string\]: (.+); \}$/.exec(type))) {
    if (typeof value !== "object") return;
    for (const [k, v] of Object.entries(value)) {
      await unknownFields(v, m[1], `${where}.${k}`, problems);
    }
    return;
  }
  const cls = await clientClass(type);
  if (!cls || !cls.attributeTypeMap || typeof value !== "object" || Array.isArray(value)) return;
  const fields = new Map(cls.attributeTypeMap.map((a) => [a.baseName, a.type]));
  for (const [k, v] of Object.entries(value)) {
    if (!fields.has(k)) {
      problems.push(`${where}.${k}: unknown field (not in ${type})`);
    } else {
      await unknownFields(v, fields.get(k), `${where}.${k}`, problems);
    }
  }
}

const objects = JSON.parse(readFileSync(manifestsPath, "utf8"));
let failures = 0;
let checked = 0;
for (const obj of objects) {
  const name = `${obj?.kind ?? "?"}/${obj?.metadata?.name ?? "?"}`;
  const problems = [];
  if (!obj || typeof obj.apiVersion !== "string" || typeof obj.kind !== "string") {
    problems.push("no apiVersion or kind");
  } else {
    const where = locate(obj.apiVersion, obj.kind);
    if (!existsSync(where.model)) {
      problems.push(`unknown type ${obj.apiVersion} ${obj.kind} (no schema at ${where.model})`);
    } else {
      const mod = await import(pathToFileURL(where.model).href);
      const Model = mod[obj.kind];
      try {
        new Model(obj).validate();
      } catch (e) {
        for (const line of String(e.message).split(/, (?=data)/)) problems.push(`schema: ${line}`);
      }
      if (where.client) {
        if (!(await clientClass(where.client))) {
          problems.push(`no field list for ${where.client}`);
        } else {
          await unknownFields(obj, where.client, "", problems);
        }
      }
    }
  }
  checked++;
  for (const p of problems) console.log(`${name}: ${p}`);
  if (problems.length) failures++;
}
console.log(`validate_manifests: ${checked} objects, ${failures} invalid`);
process.exit(failures ? 1 : 0);
