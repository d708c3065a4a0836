// Entry point for the local Unleash server that scripts/unleash.sh launches.
// scripts/unleash.sh copies this file next to the node_modules it installs and
// passes every setting through the environment. The server listens on the
// loopback interface only, and the version check and telemetry are switched
// off so that it never calls out to the internet.
import { start } from 'unleash-server';

const env = process.env;
const port = Number(env.UNLEASH_PORT || 4242);

start({
  db: {
    host: env.DATABASE_HOST || '127.0.0.1',
    port: Number(env.DATABASE_PORT || 5432),
    user: env.DATABASE_USERNAME || 'unleash',
    password: env.DATABASE_PASSWORD || 'unleash',
    database: env.DATABASE_NAME || 'unleash',
    ssl: false,
  },
  server: { host: '127.0.0.1', port },
  versionCheck: { enable: false },
  telemetry: false,
  logLevel: env.LOG_LEVEL || 'warn',
})
  .then((unleash) => {
    console.log(`unleash-server ${unleash.version} listening on 127.0.0.1:${port}`);
  })
  .catch((err) => {
    console.error('unleash-server failed to start:', err);
    process.exit(1);
  });
