import { classifyComment } from '../src/domain/middleman.classify.js';
const texts = process.argv.slice(2);
for (const t of texts) { const r = classifyComment({ text: t }); console.log(r.label.padEnd(13), r.cue.padEnd(24), JSON.stringify(r.evidence), '|', t.slice(0,90)); }
