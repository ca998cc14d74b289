/**
 * fast-check for suites that also run in XS. fast-check reads the global
 * setTimeout/clearTimeout when it loads (it only calls them for async
 * properties with a timeout, which these suites do not use); XS has no timers,
 * so stand-ins that refuse to run are installed first.
 */
import "./no-timers";
export { default as fc } from "fast-check";
