import { createContext, useContext } from 'react';
import type { Session } from './api';

/** The signed-in person, provided by App once GET /api/v1/session has answered. */
export interface SessionState {
  session: Session;
  signOut: () => Promise<void>;
}

export const SessionContext = createContext<SessionState | null>(null);

export const useSession = (): SessionState => {
  const value = useContext(SessionContext);
  if (!value) throw new Error('useSession is used outside a signed-in page');
  return value;
};
