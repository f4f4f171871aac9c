import { prepareComment } from '../src/domain/middleman.text.js';
console.log(JSON.stringify(prepareComment(process.argv[2]!), null, 1));
