// act-kit stand-in for actions/cache (main = restore, post = save) and its restore/save sub-actions.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const crypto = require('crypto');

const input = (name) => (process.env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] || '').trim();
const list = (name) => input(name).split('\n').map((s) => s.trim()).filter(Boolean);
const append = (file, text) => fs.appendFileSync(process.env[file], text + '\n');
const setOutput = (k, v) => append('GITHUB_OUTPUT', `${k}=${v}`);
const root = process.env.ACT_KIT_CACHE_DIR || path.join(os.tmpdir(), 'act-kit-cache');
const workspace = process.env.GITHUB_WORKSPACE || process.cwd();
const paths = list('path');
const resolve = (p) => path.resolve(workspace, p.startsWith('~') ? os.homedir() + p.slice(1) : p);
// Like the real action, an entry only matches when it was saved for the same paths ("version").
const version = crypto.createHash('sha256').update(paths.join('|')).digest('hex').slice(0, 16);
const entryDir = (key) => path.join(root, version, encodeURIComponent(key));

function record(event) {
  if (!process.env.ACT_KIT_OUT) return;
  fs.mkdirSync(process.env.ACT_KIT_OUT, { recursive: true });
  fs.appendFileSync(path.join(process.env.ACT_KIT_OUT, 'cache.jsonl'), JSON.stringify(event) + '\n');
}

function findEntry(key, restoreKeys) {
  if (fs.existsSync(path.join(entryDir(key), 'meta.json'))) return key;
  const dir = path.join(root, version);
  if (!fs.existsSync(dir)) return null;
  const entries = fs.readdirSync(dir)
    .map((d) => path.join(dir, d, 'meta.json')).filter((f) => fs.existsSync(f))
    .map((f) => JSON.parse(fs.readFileSync(f, 'utf8')))
    .sort((a, b) => b.created - a.created);  // newest first, as GitHub does
  for (const prefix of restoreKeys) {
    const hit = entries.find((e) => e.key.startsWith(prefix));
    if (hit) return hit.key;
  }
  return null;
}

function restore(saveLater) {
  const key = input('key');
  if (paths.some((p) => /[*?[]/.test(p))) console.log('::warning::act-kit cache: glob paths are not supported');
  setOutput('cache-primary-key', key);
  if (saveLater) append('GITHUB_STATE', `CACHE_KEY=${key}`);
  const matched = findEntry(key, list('restore-keys'));
  record({ op: 'restore', key, matched, version, paths });
  if (!matched) {
    console.log(`Cache not found for input keys: ${[key, ...list('restore-keys')].join(', ')}`);
    if (input('fail-on-cache-miss') === 'true') {
      console.log(`::error::Failed to restore cache entry. Exiting as fail-on-cache-miss is set. Input key: ${key}`);
      process.exitCode = 1;
    }
    return;
  }
  if (input('lookup-only') !== 'true') {
    paths.forEach((p, i) => {
      const src = path.join(entryDir(matched), 'files', String(i));
      if (fs.existsSync(src)) fs.cpSync(src, resolve(p), { recursive: true, force: true });
    });
  }
  setOutput('cache-hit', String(matched === key));
  setOutput('cache-matched-key', matched);
  if (saveLater) append('GITHUB_STATE', `CACHE_MATCHED=${matched}`);
  console.log(`Cache restored from key: ${matched}`);
}

function save(key, matched) {
  if (matched === key) { console.log(`Cache hit occurred on the primary key ${key}, not saving cache.`); return; }
  const dir = entryDir(key);
  if (fs.existsSync(path.join(dir, 'meta.json'))) { console.log(`Cache ${key} already exists, not saving.`); return; }
  const tmp = `${dir}.tmp-${process.pid}`;
  let stored = 0;
  paths.forEach((p, i) => {
    if (fs.existsSync(resolve(p))) { fs.cpSync(resolve(p), path.join(tmp, 'files', String(i)), { recursive: true }); stored++; }
  });
  if (!stored) { console.log('::warning::Path Validation Error: Path(s) specified in the action for caching do(es) not exist, hence no cache is being saved.'); return; }
  fs.writeFileSync(path.join(tmp, 'meta.json'), JSON.stringify({ key, paths, created: Date.now() }));
  fs.renameSync(tmp, dir);
  record({ op: 'save', key, version, paths });
  console.log(`Cache saved with key: ${key}`);
}

const mode = process.env.KIT_CACHE_MODE;
if (mode === 'save') save(input('key'), null);
else if (mode === 'restore') restore(false);
else if (process.env.STATE_CACHE_KEY !== undefined) save(process.env.STATE_CACHE_KEY, process.env.STATE_CACHE_MATCHED || null);
else restore(true);
