import { builder } from './builder.js';

builder.objectType('LoginPayload', {
  fields: (t) => ({
    user: t.expose('user', { type: 'User' }),
    session: t.expose('session', { type: 'Session' }),
  }),
});

builder.mutationField('login', (t) =>
  t.field({
    type: 'LoginPayload',
    description: 'Signs in and sets the session cookie. The token itself is only ever in the cookie.',
    args: {
      username: t.arg.string({ required: true }),
      password: t.arg.string({ required: true }),
    },
    resolve: async (_root, { username, password }, context) => {
      const { viewer, token } = await context.services.logins.login(username, password, context.device, context.viewer);
      context.setSessionCookie(token, viewer.session.expiresAt);
      // The new session is this request's from here on (e.g. `session { current }`).
      context.viewer = viewer;
      return viewer;
    },
  }),
);

builder.mutationField('logout', (t) =>
  t.boolean({
    description: 'Ends this session and clears the cookie. Anonymous callers get false.',
    resolve: async (_root, _args, context) => {
      context.clearSessionCookie();
      if (!context.viewer) return false;
      await context.services.ends.logout(context.viewer, context.device);
      return true;
    },
  }),
);
