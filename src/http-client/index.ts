/**
 * HTTP requests to the model server on this host, bounded in time and size whatever it answers.
 * @module
 */
export { FetchError, type FetchedBody, type FetchLimits, fetchBounded } from './bounded-fetch.ts';
