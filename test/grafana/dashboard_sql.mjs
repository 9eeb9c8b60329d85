// dashboard_sql.mjs: the SQL Grafana's PostgreSQL data source would send for each query of a
// dashboard (variable queries and panel targets), so that a test can run it.
//
//   node dashboard_sql.mjs DASHBOARD.json OUT_DIR SETTINGS.json
//
// SETTINGS.json: {"from": ISO time, "to": ISO time, "intervalMs": n,
//                 "vars": {"name": "value" | ["v1", "v2"] | "$__all", ...}}
// Writes OUT_DIR/var-<name>.sql and OUT_DIR/panel-<id>-<type>[-diff].sql.  Plain Node, no
// dependencies.  Two steps, as in Grafana:
//  1. the frontend replaces $var / ${var} (SqlDatasource.interpolateVariable: a multi-value or
//     include-All variable's values are quoted SQL literals joined by commas, a single value only
//     has its quotes doubled, a custom All value is inserted raw) and $__interval_ms;
//  2. the backend expands the macros (pkg/tsdb/grafana-postgresql-datasource/macros.go):
//     $__timeFilter(col), $__timeFrom(), $__timeTo(); any other macro is an error here.

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const [dashboardPath, outDir, settingsPath] = process.argv.slice(2);
if (!settingsPath) {
  console.error('usage: node dashboard_sql.mjs DASHBOARD.json OUT_DIR SETTINGS.json');
  process.exit(2);
}
const dashboard = JSON.parse(readFileSync(dashboardPath, 'utf8'));
const settings = JSON.parse(readFileSync(settingsPath, 'utf8'));
const variables = new Map(dashboard.templating.list.map((v) => [v.name, v]));

const quoteLiteral = (s) => `'${String(s).replace(/'/g, "''")}'`;

// The value of one variable as the PostgreSQL data source formats it.
function formatVariable(name) {
  if (name === '__interval_ms') {
    return String(settings.intervalMs);
  }
  const variable = variables.get(name);
  if (!variable) {
    return undefined;
  }
  if (!(name in settings.vars)) {
    throw new Error(`no value given for variable ${name}`);
  }
  const value = settings.vars[name];
  const isAll = value === '$__all' || (Array.isArray(value) && value[0] === '$__all');
  if (isAll) {
    if (!variable.includeAll) {
      throw new Error(`variable ${name} has no All option`);
    }
    if (!variable.allValue) {
      throw new Error(`variable ${name}: All without a custom all value is not emulated`);
    }
    return interpolateVariables(variable.allValue);
  }
  if (Array.isArray(value)) {
    return value.map(quoteLiteral).join(',');
  }
  return variable.multi || variable.includeAll ? quoteLiteral(value) : String(value).replace(/'/g, "''");
}

// Grafana's variable syntax: $name, ${name}, ${name:format}, [[name]].  Unknown names (the
// backend macros such as $__timeFilter) are left alone.
function interpolateVariables(sql) {
  const re = /\$(\w+)|\[\[(\w+?)(?::(\w+))?\]\]|\$\{(\w+)(?::([^}]+))?\}/g;
  return sql.replace(re, (match, plain, bracket, bracketFormat, braced, format) => {
    if (bracketFormat || format) {
      throw new Error(`variable format in ${match} is not emulated`);
    }
    const value = formatVariable(plain || bracket || braced);
    return value === undefined ? match : value;
  });
}

// Go's time.RFC3339Nano of a UTC time: no fractional part when it is zero.
const rfc3339 = (iso) => new Date(iso).toISOString().replace(/\.?0+Z$/, 'Z');

function expandMacros(sql) {
  return sql.replace(/\$([_a-zA-Z0-9]+)\(([^)]*)\)/g, (match, name, rawArgs) => {
    const args = rawArgs.split(',').map((a) => a.trim());
    switch (name) {
      case '__timeFilter':
        return `${args[0]} BETWEEN '${rfc3339(settings.from)}' AND '${rfc3339(settings.to)}'`;
      case '__timeFrom':
        return `'${rfc3339(settings.from)}'`;
      case '__timeTo':
        return `'${rfc3339(settings.to)}'`;
      default:
        throw new Error(`macro ${match} is not emulated`);
    }
  });
}

const render = (sql) => expandMacros(interpolateVariables(sql));

mkdirSync(outDir, { recursive: true });
let problems = 0;
function emit(file, sql) {
  try {
    writeFileSync(join(outDir, file), `${render(sql)}\n`);
  } catch (e) {
    problems++;
    console.error(`${file}: ${e.message}`);
  }
}
for (const v of dashboard.templating.list) {
  if (v.type === 'query') {
    emit(`var-${v.name}.sql`, typeof v.query === 'string' ? v.query : v.query.rawSql);
  }
}
for (const panel of dashboard.panels) {
  for (const target of panel.targets ?? []) {
    const diff = /\bflamegraph_diff\s*\(/.test(target.rawSql) ? '-diff' : '';
    emit(`panel-${panel.id}${target.refId === 'A' ? '' : target.refId}-${panel.type}${diff}.sql`,
      target.rawSql);
  }
}
process.exit(problems ? 1 : 0);
