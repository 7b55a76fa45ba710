import { startMoto, stopMoto } from './moto.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

export const mochaHooks = {
  async beforeAll(this: Mocha.Context) {
    this.timeout(30_000);
    await startMoto();
  },
  async afterAll() {
    await stopMoto();
  },
};
