// test/package/pack.test.ts runs this in the fresh project: require('heed') and require('heed/infer')
// give the library where Node can require() ES modules, else throw an error saying to use import.
const heed = require('heed');
const infer = require('heed/infer');
heed.init().then(async (h) => {
  const i = await infer.init();
  console.log(JSON.stringify({ backend: h.backend, infer: i.backend, fit: typeof h.fit, loadClassifier: typeof infer.loadClassifier }));
});
