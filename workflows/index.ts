// Entry point of the workflow bundle the worker loads.
export { runbookWorkflow } from './interpreter.ts';
export { forEachWorkflow } from './for-each.ts';
export { planWorkflow } from './plan.ts';
export { batchWorkflow } from './batch.ts';
