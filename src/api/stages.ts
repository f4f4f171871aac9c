/**
 * The stage vocabulary for clients (the web app imports only from src/api).
 * Plain constants, no zod, so importing it adds nothing heavy to the bundle.
 */
export { STAGES, STAGE_LABELS, type Stage } from '../domain/stage.js';
