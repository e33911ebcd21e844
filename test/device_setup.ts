/**
 * Loaded before every test file when AUTODEEPLAB_TEST_DEVICE is set (see
 * scripts/run-tests.js): makes that device the default for every tensor the
 * tests create, so that the engine, search and model suites run on a GPU
 * with `AUTODEEPLAB_TEST_DEVICE=cuda node scripts/run-tests.js engine/ search/ model/`.
 */
import * as T from '../src/engine';

const device = process.env.AUTODEEPLAB_TEST_DEVICE;
if (device) T.setDefaultDevice(device);
