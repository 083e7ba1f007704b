// act-kit stand-in for astral-sh/setup-uv: main and post run tools/actkit/lib/setup_uv.py (stdlib python).
'use strict';
const { spawnSync } = require('child_process');
const path = require('path');

const phase = process.env.STATE_SETUP_UV_RAN === 'true' ? 'post' : 'main';
const script = path.join(process.env.ACT_KIT_HOME || path.join(__dirname, '..', '..'), 'lib', 'setup_uv.py');
const result = spawnSync('python3', [script, phase], { stdio: 'inherit' });
process.exitCode = result.status === null ? 1 : result.status;
