// check.mjs: feeds the rows of flamegraph() and flamegraph_diff() to Grafana's own flame graph
// data layer (checkFields and FlameGraphDataContainer of @grafana/flamegraph) and checks what
// the Flame Graph panel would draw from them.
//
//   node check.cjs CASE.json...   (the bundle esbuild makes of this file, see
//                                  test/scripts/grafana_contract.sh)
//
// Each CASE.json is {"name": ..., "diff": bool, "maxNodes": int|null, "expectOther": bool,
// "rows": [{"level":..,"label":..,"value":..,"self":..[,"valueRight":..,"selfRight":..[,"blame":..]]}]},
// the rows as `SELECT json_agg(f) FROM flamegraph(...) f` returns them.  The rows become a
// frame twice: with typed fields, as Grafana's PostgreSQL data source delivers int/bigint/text
// columns (createDataFrame), and with types guessed from the JSON values (toDataFrame).
// Prints one line per check and "N passed, N failed" last; exits 1 on any failure.

import './setup.mjs';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { createDataFrame, toDataFrame, FieldType } from '@grafana/data';
// Aliased by the bundler to @grafana/flamegraph's dist/esm/FlameGraph/dataTransform.mjs.
import { checkFields, FlameGraphDataContainer } from 'grafana-flamegraph-data-transform';

let passed = 0;
let failed = 0;

// Runs one named check: it passes when fn returns without throwing and without Grafana's code
// logging a warning or an error on the console.
function check(name, fn) {
  const logged = [];
  const saved = { warn: console.warn, error: console.error };
  console.warn = (...args) => logged.push(`warning: ${args.join(' ')}`);
  console.error = (...args) => logged.push(`error: ${args.join(' ')}`);
  let problem;
  try {
    fn();
  } catch (e) {
    problem = e instanceof Error ? e.message : String(e);
  } finally {
    console.warn = saved.warn;
    console.error = saved.error;
  }
  if (!problem && logged.length) {
    problem = `Grafana logged ${logged.join('; ')}`;
  }
  if (problem) {
    failed++;
    console.log(`FAIL ${name}: ${problem}`);
  } else {
    passed++;
    console.log(`ok   ${name}`);
  }
}

function assert(cond, message) {
  if (!cond) {
    throw new Error(message);
  }
}

const FIELD_NAMES = ['level', 'label', 'value', 'self'];
const DIFF_FIELD_NAMES = ['valueRight', 'selfRight'];
// flamegraph_diff's last column (0.2.0): the change entering at each row, a float that
// Grafana's flame graph does not read; it rides along in the frame as the panel gets it.
const BLAME_FIELD = 'blame';

// The columns of a case's rows: Grafana's, then blame when the rows have it.
function fieldNames(rows, diff) {
  const names = diff ? [...FIELD_NAMES, ...DIFF_FIELD_NAMES] : FIELD_NAMES;
  return diff && rows.length && BLAME_FIELD in rows[0] ? [...names, BLAME_FIELD] : names;
}

// The frame Grafana's PostgreSQL data source makes of the query result: one field per column,
// level/value/self/valueRight/selfRight numbers (int4/int8), label a string (text).
function typedFrame(name, rows, diff) {
  const names = fieldNames(rows, diff);
  return createDataFrame({
    name,
    fields: names.map((field) => ({
      name: field,
      type: field === 'label' ? FieldType.string : FieldType.number,
      values: rows.map((row) => row[field]),
    })),
  });
}

// A frame with the field types guessed by Grafana from the JSON values themselves.
function guessedFrame(name, rows) {
  const frame = toDataFrame(rows);
  frame.name = name;
  return frame;
}

// The value a row contributes on each side: [left, right] (right is 0 outside diff mode).
function sides(row, diff) {
  return diff ? [row.value, row.valueRight] : [row.value, 0];
}

// Parent row index of each row, from the pre-order levels (-1 for the root).
function parentsFromLevels(rows) {
  const parent = new Array(rows.length).fill(-1);
  const path = [];
  rows.forEach((row, i) => {
    path.length = row.level;
    parent[i] = row.level > 0 ? path[row.level - 1] : -1;
    path[row.level] = i;
  });
  return parent;
}

// Checks that only need the SQL rows: shape, pre-order, value = self + children per side,
// and the "other" rows of a truncated graph.
function checkRows(c) {
  const { name, rows, diff } = c;
  check(`${name}: rows have the ${diff ? 'diff ' : ''}columns, in pre-order, one root`, () => {
    assert(Array.isArray(rows) && rows.length > 0, 'no rows');
    const names = fieldNames(rows, diff);
    const want = names.join(',');
    rows.forEach((row, i) => {
      const got = Object.keys(row).join(',');
      assert(got === want, `row ${i} has columns ${got}, want ${want}`);
      assert(typeof row.label === 'string', `row ${i}: label is not a string`);
      for (const f of names.filter((n) => n !== 'label' && n !== BLAME_FIELD)) {
        assert(Number.isSafeInteger(row[f]), `row ${i}: ${f} = ${row[f]} is not a safe integer`);
      }
      if (names.includes(BLAME_FIELD)) {
        assert(Number.isFinite(row[BLAME_FIELD]), `row ${i}: blame = ${row[BLAME_FIELD]} is not a number`);
      }
      if (i === 0) {
        assert(row.level === 0, `first row has level ${row.level}`);
      } else {
        assert(row.level >= 1, `row ${i} is a second root (level ${row.level})`);
        assert(row.level <= rows[i - 1].level + 1,
          `row ${i} jumps from level ${rows[i - 1].level} to ${row.level}`);
      }
    });
  });
  check(`${name}: value = self + children's values${diff ? ' on both sides' : ''}`, () => {
    const parent = parentsFromLevels(rows);
    const childSum = rows.map(() => [0, 0]);
    rows.forEach((row, i) => {
      if (parent[i] >= 0) {
        const [l, r] = sides(row, diff);
        childSum[parent[i]][0] += l;
        childSum[parent[i]][1] += r;
      }
    });
    rows.forEach((row, i) => {
      assert(row.value === row.self + childSum[i][0],
        `row ${i} (${row.label}): value ${row.value} != self ${row.self} + children ${childSum[i][0]}`);
      if (diff) {
        assert(row.valueRight === row.selfRight + childSum[i][1],
          `row ${i} (${row.label}): valueRight ${row.valueRight} != selfRight ${row.selfRight} + children ${childSum[i][1]}`);
      }
    });
  });
  if (c.expectOther) {
    check(`${name}: truncated to max_nodes ${c.maxNodes}, the rest summed in "other" rows`, () => {
      const others = rows.filter((r) => r.label === 'other');
      assert(others.length > 0, 'no "other" row');
      assert(others.every((r) => r.level > 0), 'an "other" row at level 0');
      const kept = rows.length - others.length;
      assert(kept <= c.maxNodes + 1, `${kept} rows other than "other" for max_nodes ${c.maxNodes}`);
    });
  }
}

// Checks of one frame through Grafana's code: checkFields, the container, getLevels() nesting,
// the sandwich view and the collapsed map.
function checkFrame(c, kind, makeFrame) {
  const { name, rows, diff } = c;
  const tag = `${name} [${kind} frame]`;
  let frame;
  let container;
  let levels;
  check(`${tag}: checkFields accepts it`, () => {
    frame = makeFrame();
    const wrong = checkFields(frame);
    assert(wrong === undefined, `checkFields: ${JSON.stringify(wrong)}`);
    for (const f of frame.fields) {
      const want = f.name === 'label' ? FieldType.string : FieldType.number;
      assert(f.type === want, `field ${f.name} has type ${f.type}, want ${want}`);
    }
  });
  if (!frame) {
    return;
  }
  check(`${tag}: FlameGraphDataContainer takes it${diff ? ', in diff mode' : ''}`, () => {
    container = new FlameGraphDataContainer(frame, { collapsing: true });
    assert(container.isDiffFlamegraph() === diff,
      `isDiffFlamegraph() is ${container.isDiffFlamegraph()}, want ${diff}`);
    levels = container.getLevels();
  });
  if (!levels) {
    return;
  }
  check(`${tag}: getLevels() has a single root at level 0 holding the (non-zero) total`, () => {
    assert(levels.length > 0 && levels[0].length === 1,
      `level 0 has ${levels.length ? levels[0].length : 0} items`);
    const root = levels[0][0];
    const [l, r] = sides(rows[0], diff);
    assert(root.start === 0, `root starts at ${root.start}`);
    assert(root.value === l + r, `root value ${root.value}, want ${l + r}`);
    assert(l > 0 && (!diff || r > 0), `empty graph: root value ${l}${diff ? `, valueRight ${r}` : ''}`);
    assert(!root.parents, 'root has a parent');
  });
  check(`${tag}: getLevels() keeps every row once, at its level, with its label and values`, () => {
    const seen = new Array(rows.length).fill(false);
    levels.forEach((items, level) => {
      assert(Array.isArray(items), `level ${level} is missing`);
      for (const item of items) {
        const i = item.itemIndexes[0];
        assert(item.itemIndexes.length === 1 && !seen[i], `row ${i} appears twice`);
        seen[i] = true;
        const row = rows[i];
        const [l, r] = sides(row, diff);
        assert(item.level === level && row.level === level, `row ${i} drawn at level ${level}, it has ${row.level}`);
        assert(container.getLabel(i) === row.label, `row ${i}: label ${container.getLabel(i)}, want ${row.label}`);
        assert(item.value === l + r, `row ${i}: value ${item.value}, want ${l + r}`);
        assert(container.getSelf(i) === row.self, `row ${i}: self ${container.getSelf(i)}, want ${row.self}`);
        if (diff) {
          assert(item.valueRight === r, `row ${i}: valueRight ${item.valueRight}, want ${r}`);
          assert(container.getSelfRight(i) === row.selfRight, `row ${i}: selfRight differs`);
        }
      }
    });
    const missing = seen.indexOf(false);
    assert(missing < 0, `row ${missing} (${rows[missing]?.label}) is not drawn`);
  });
  check(`${tag}: getLevels() nests: each child inside its parent's span, children's values <= parent's`, () => {
    for (const items of levels) {
      for (const item of items) {
        const kids = item.children;
        let end = item.start;
        let sum = 0;
        let sumRight = 0;
        for (const kid of kids) {
          const at = `row ${kid.itemIndexes[0]} (${rows[kid.itemIndexes[0]].label})`;
          assert(kid.parents && kid.parents[0] === item, `${at}: wrong parent`);
          assert(kid.level === item.level + 1, `${at}: level ${kid.level} under level ${item.level}`);
          assert(kid.start >= end, `${at}: starts at ${kid.start}, before its left sibling ends at ${end}`);
          assert(kid.start >= item.start && kid.start + kid.value <= item.start + item.value,
            `${at}: span [${kid.start}, ${kid.start + kid.value}] outside parent's [${item.start}, ${item.start + item.value}]`);
          end = kid.start + kid.value;
          sum += kid.value;
          sumRight += kid.valueRight ?? 0;
        }
        const at = `row ${item.itemIndexes[0]} (${rows[item.itemIndexes[0]].label})`;
        assert(sum <= item.value, `${at}: children sum to ${sum} > value ${item.value}`);
        if (diff) {
          assert(sumRight <= item.valueRight, `${at}: children's valueRight ${sumRight} > ${item.valueRight}`);
        }
      }
    }
  });
  check(`${tag}: sandwich view and collapsed map build`, () => {
    let heaviest = 0;
    rows.forEach((row, i) => {
      if (row.self + (row.selfRight ?? 0) > rows[heaviest].self + (rows[heaviest].selfRight ?? 0)) {
        heaviest = i;
      }
    });
    const label = rows[heaviest].label;
    const [callers, callees] = container.getSandwichLevels(label);
    assert(callers.length > 0 && callees.length > 0, `no sandwich levels for ${label}`);
    assert(callees[0].length === 1, `callees of ${label} have ${callees[0].length} roots`);
    const total = rows.filter((r) => r.label === label)
      .reduce((a, r) => a + r.value + (diff ? r.valueRight : 0), 0);
    assert(callees[0][0].value <= total, `callees root ${callees[0][0].value} > ${total}`);
    container.getCollapsedMap();
  });
}

const files = process.argv.slice(2);
if (files.length === 0) {
  console.log('usage: node check.cjs CASE.json...');
  process.exit(2);
}
for (const file of files) {
  let c;
  try {
    c = JSON.parse(readFileSync(file, 'utf8'));
    assert(typeof c.name === 'string' && typeof c.diff === 'boolean', 'no "name" or "diff"');
    c.rows = c.rows ?? [];
  } catch (e) {
    failed++;
    console.log(`FAIL ${basename(file)}: not a case file: ${e.message}`);
    continue;
  }
  checkRows(c);
  if (c.rows.length) {
    checkFrame(c, 'typed', () => typedFrame(c.name, c.rows, c.diff));
    checkFrame(c, 'guessed', () => guessedFrame(c.name, c.rows));
  }
}
console.log(`grafana contract: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
