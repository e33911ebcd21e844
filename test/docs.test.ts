/**
 * The documentation holds together: every relative link in README.md and
 * docs/*.md reaches a file of the repository and, with #anchor, a heading of
 * it (GitHub's slugs); the README stays a front door under 10 KB that links
 * every docs page; and nothing cites a file outside the repository.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');
/** Pages written by a command rather than by hand: a link to one may precede its first generation. */
const GENERATED = new Set(['docs/results.md']); // npm run evidence
const README_LIMIT = 10_000;

function markdownFiles(): string[] {
  const docs = fs.readdirSync(path.join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`);
  return ['README.md', ...docs.sort()];
}

/** The text outside fenced code blocks and inline code spans, line by line (links and headings there are not Markdown). */
function proseLines(text: string): string[] {
  let fenced = false;
  return text.split('\n').map((line) => {
    if (/^\s*(```|~~~)/.test(line)) {
      fenced = !fenced;
      return '';
    }
    return fenced ? '' : line.replace(/`[^`]*`/g, (m) => (m.includes('](') ? '' : m));
  });
}

/** GitHub's anchor of a heading: lower case, punctuation dropped (inline code's backticks too), spaces to hyphens, repeats numbered. */
function slug(heading: string, seen: Map<string, number>): string {
  const base = heading.trim().toLowerCase().replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '').replace(/ /g, '-');
  const n = seen.get(base) ?? 0;
  seen.set(base, n + 1);
  return n === 0 ? base : `${base}-${n}`;
}

function anchors(file: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const line of proseLines(fs.readFileSync(path.join(ROOT, file), 'utf8'))) {
    const m = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (m) out.add(slug(m[1], seen));
  }
  return out;
}

/** Every link target of a Markdown file: [text](target) and ![alt](target), with its line. */
function links(file: string): { target: string; line: number }[] {
  const out: { target: string; line: number }[] = [];
  proseLines(fs.readFileSync(path.join(ROOT, file), 'utf8')).forEach((line, i) => {
    for (const m of line.matchAll(/!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) out.push({ target: m[1], line: i + 1 });
  });
  return out;
}

/** What is wrong with one link, or null: relative to `file`, inside the repository, existing, its anchor a heading. */
function problem(file: string, target: string): string | null {
  if (/^[a-z][a-z0-9+.-]*:/i.test(target)) return null; // https:, mailto:
  const [rel, anchor] = target.split('#', 2) as [string, string | undefined];
  const resolved = rel === '' ? path.join(ROOT, file) : path.resolve(path.dirname(path.join(ROOT, file)), decodeURIComponent(rel));
  const inRepo = path.relative(ROOT, resolved).split(path.sep).join('/');
  if (inRepo.startsWith('..') || path.isAbsolute(inRepo)) return `${target} leaves the repository`;
  if (!fs.existsSync(resolved)) return GENERATED.has(inRepo) ? null : `${target}: no such file (${inRepo})`;
  if (anchor === undefined || !inRepo.endsWith('.md')) return null;
  return anchors(inRepo).has(anchor) ? null : `${target}: no heading with anchor #${anchor} in ${inRepo}`;
}

describe('documentation', () => {
  it('computes GitHub anchors', () => {
    const seen = new Map<string, number>();
    assert.equal(slug('One machine: `--nproc`', seen), 'one-machine---nproc');
    assert.equal(slug("The searched architecture as released (the paper's Fig. 3)", seen), 'the-searched-architecture-as-released-the-papers-fig-3');
    assert.equal(slug('Cost / accuracy sweeps', seen), 'cost--accuracy-sweeps');
    assert.equal(slug('libtorch 2.x', seen), 'libtorch-2x');
    assert.equal(slug('Results', seen), 'results');
    assert.equal(slug('Results', seen), 'results-1');
  });

  it('every relative link in README.md and docs/*.md reaches a file and heading of the repository', () => {
    const bad: string[] = [];
    let count = 0;
    for (const file of markdownFiles()) {
      for (const { target, line } of links(file)) {
        count++;
        const p = problem(file, target);
        if (p) bad.push(`${file}:${line}: ${p}`);
      }
    }
    assert.ok(count > 100, `only ${count} links found: the link pattern is broken`);
    assert.deepEqual(bad, []);
  });

  it('finds a broken link, a missing anchor and a link out of the repository', () => {
    assert.match(problem('README.md', 'docs/no-such-page.md') ?? '', /no such file/);
    assert.match(problem('README.md', 'docs/search.md#no-such-heading') ?? '', /no heading/);
    assert.match(problem('docs/search.md', '../../shared/REFERENCE.md') ?? '', /leaves the repository/);
    assert.equal(problem('docs/search.md', '#what-is-searched'), null);
  });

  it(`README.md is under ${README_LIMIT} bytes and links every docs page`, () => {
    const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    assert.ok(Buffer.byteLength(readme) < README_LIMIT, `README.md is ${Buffer.byteLength(readme)} bytes`);
    const linked = new Set(links('README.md').map((l) => l.target.split('#')[0]));
    const pages = fs.readdirSync(path.join(ROOT, 'docs')).filter((f) => /\.(md|json)$/.test(f)).map((f) => `docs/${f}`);
    assert.deepEqual(pages.filter((p) => !linked.has(p)), []);
  });

  it('every docs page opens with a contents list', () => {
    const missing = markdownFiles().filter((f) => f.startsWith('docs/') && !GENERATED.has(f))
      .filter((f) => !fs.readFileSync(path.join(ROOT, f), 'utf8').split('\n').slice(0, 25).some((l) => l.startsWith('Contents:')));
    assert.deepEqual(missing, []);
  });

  it('no source, test, script or page cites a file outside the repository', () => {
    const cited: string[] = [];
    const walk = (dir: string): string[] => fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
      const p = `${dir}/${e.name}`;
      if (e.isDirectory()) return e.name === 'node_modules' || e.name === 'peer' ? [] : walk(p);
      return /\.(ts|js|md|sh|py|cc|h)$/.test(e.name) ? [p] : [];
    });
    const files = ['README.md', ...['src', 'test', 'bench', 'scripts', 'docs', 'native/src'].flatMap(walk)]
      .filter((f) => f !== 'test/docs.test.ts'); // this file names such paths as examples
    for (const f of files) {
      fs.readFileSync(path.join(ROOT, f), 'utf8').split('\n').forEach((line, i) => {
        if (/\.\.\/shared\/|shared\/REFERENCE|shared\/seeds|shared\/STYLE/.test(line)) cited.push(`${f}:${i + 1}`);
      });
    }
    assert.deepEqual(cited, []);
  });
});
