/**
 * The operations behind the client's own methods. `npm run codegen` reads the `/* GraphQL *\/`
 * strings here and writes their result types into generated.ts, so a field the schema lacks
 * fails the typecheck. Fragments are plain strings appended to the operations that spread them (no graphql-js at run time).
 */
import type {
  GatehouseCurrentSessionQuery,
  GatehouseCurrentSessionQueryVariables,
  GatehouseEndSessionMutation,
  GatehouseEndSessionMutationVariables,
  GatehouseFinishPasskeyLoginMutation,
  GatehouseFinishPasskeyLoginMutationVariables,
  GatehouseLoginMutation,
  GatehouseLoginMutationVariables,
  GatehouseLogoutMutation,
  GatehouseLogoutMutationVariables,
  GatehouseMeQuery,
  GatehouseMeQueryVariables,
  GatehouseSessionRevokedSubscription,
  GatehouseSessionRevokedSubscriptionVariables,
  GatehouseSessionsQuery,
  GatehouseSessionsQueryVariables,
  GatehouseStartPasskeyLoginMutation,
  GatehouseStartPasskeyLoginMutationVariables,
  GatehouseVerifySecondFactorMutation,
  GatehouseVerifySecondFactorMutationVariables,
} from './generated.js';
import type { TypedDocument } from './http.js';

const USER = /* GraphQL */ `
  fragment GatehouseUser on User {
    id
    username
    role
  }
`;

const SESSION = /* GraphQL */ `
  fragment GatehouseSession on Session {
    id
    current
    createdAt
    lastSeenAt
    expiresAt
    userAgent
    ipAddress
    assurance
    authenticationMethods
    deviceBound
  }
`;

const LOGIN_PAYLOAD = /* GraphQL */ `
  fragment GatehouseLoginPayload on LoginPayload {
    user {
      ...GatehouseUser
    }
    session {
      ...GatehouseSession
    }
    nextStep
  }
`;

const LOGIN_FRAGMENTS = LOGIN_PAYLOAD + USER + SESSION;

/** An operation with the fragments it spreads, typed by codegen's result and variables types. */
function operation<Data, Variables>(source: string, ...fragments: string[]): TypedDocument<Data, Variables> {
  return [source, ...fragments].join('');
}

export const LOGIN = operation<GatehouseLoginMutation, GatehouseLoginMutationVariables>(
  /* GraphQL */ `
    mutation GatehouseLogin($username: String!, $password: String!) {
      login(username: $username, password: $password) {
        ...GatehouseLoginPayload
      }
    }
  `,
  LOGIN_FRAGMENTS,
);

export const VERIFY_SECOND_FACTOR = operation<
  GatehouseVerifySecondFactorMutation,
  GatehouseVerifySecondFactorMutationVariables
>(
  /* GraphQL */ `
    mutation GatehouseVerifySecondFactor($code: String!) {
      verifySecondFactor(code: $code) {
        ...GatehouseLoginPayload
      }
    }
  `,
  LOGIN_FRAGMENTS,
);

export const START_PASSKEY_LOGIN = operation<
  GatehouseStartPasskeyLoginMutation,
  GatehouseStartPasskeyLoginMutationVariables
>(/* GraphQL */ `
  mutation GatehouseStartPasskeyLogin($username: String) {
    startPasskeyLogin(username: $username)
  }
`);

export const FINISH_PASSKEY_LOGIN = operation<
  GatehouseFinishPasskeyLoginMutation,
  GatehouseFinishPasskeyLoginMutationVariables
>(
  /* GraphQL */ `
    mutation GatehouseFinishPasskeyLogin($response: JSON!) {
      finishPasskeyLogin(response: $response) {
        ...GatehouseLoginPayload
      }
    }
  `,
  LOGIN_FRAGMENTS,
);

export const LOGOUT = operation<GatehouseLogoutMutation, GatehouseLogoutMutationVariables>(/* GraphQL */ `
  mutation GatehouseLogout {
    logout
  }
`);

export const ME = operation<GatehouseMeQuery, GatehouseMeQueryVariables>(
  /* GraphQL */ `
    query GatehouseMe {
      me {
        ...GatehouseUser
      }
    }
  `,
  USER,
);

/** Also what a pending login may read of itself (everything else is SECOND_FACTOR_REQUIRED). */
export const CURRENT_SESSION = operation<GatehouseCurrentSessionQuery, GatehouseCurrentSessionQueryVariables>(
  /* GraphQL */ `
    query GatehouseCurrentSession {
      currentSession {
        ...GatehouseSession
        user {
          ...GatehouseUser
        }
      }
    }
  `,
  SESSION,
  USER,
);

export const SESSIONS = operation<GatehouseSessionsQuery, GatehouseSessionsQueryVariables>(
  /* GraphQL */ `
    query GatehouseSessions {
      me {
        id
        sessions {
          ...GatehouseSession
        }
      }
    }
  `,
  SESSION,
);

export const END_SESSION = operation<GatehouseEndSessionMutation, GatehouseEndSessionMutationVariables>(
  /* GraphQL */ `
    mutation GatehouseEndSession($sessionId: ID!) {
      kickSession(sessionId: $sessionId) {
        ...GatehouseSession
      }
    }
  `,
  SESSION,
);

export const SESSION_REVOKED = operation<
  GatehouseSessionRevokedSubscription,
  GatehouseSessionRevokedSubscriptionVariables
>(/* GraphQL */ `
  subscription GatehouseSessionRevoked {
    sessionRevoked {
      sessionId
      reason
      at
    }
  }
`);
