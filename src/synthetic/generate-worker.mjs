// A generator worker thread. It is plain JavaScript so that it starts whoever runs the parent
// (tsx for `npm run generate`, vitest in tests): it loads the TypeScript worker through tsx's API.
import { tsImport } from 'tsx/esm/api';

await tsImport('./generate-worker.ts', import.meta.url);
