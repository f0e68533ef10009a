// Compiles chain/src/main/solidity/*.sol with the solc pinned in package.json and writes each contract's
// ABI and creation bytecode to chain/src/main/resources/contracts/<Name>.abi|.bin, which are committed so
// the Java build (web3j codegen) needs no Node. Sources are given to solc under relative names and the
// settings are fixed, so the output (metadata hash included) is the same on every machine and every run.
// A .bin holds bare hex with no newline: web3j's codegen embeds it verbatim.
import { readFileSync, writeFileSync, readdirSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const solc = require('solc');
const chainDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const srcDir = join(chainDir, 'src/main/solidity');
const outDir = join(chainDir, 'src/main/resources/contracts');
const pinned = JSON.parse(readFileSync(join(chainDir, 'package.json'), 'utf8')).devDependencies.solc;

if (!solc.version().startsWith(pinned + '+')) {
  console.error(`solc ${solc.version()} is installed but package.json pins ${pinned}: run npm ci in chain/`);
  process.exit(1);
}

const files = readdirSync(srcDir).filter((f) => f.endsWith('.sol')).sort();
const sources = Object.fromEntries(files.map((f) => [f, { content: readFileSync(join(srcDir, f), 'utf8') }]));
const input = {
  language: 'Solidity',
  sources,
  settings: {
    optimizer: { enabled: true, runs: 200 },
    // Cancun: understood by Anvil and by every mainnet-like chain today.
    evmVersion: 'cancun',
    outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object'] } },
  },
};

function findImport(path) {
  // Only node_modules packages may be imported (e.g. @openzeppelin/contracts/...); nothing outside chain/.
  if (path.includes('..')) return { error: `refusing import with '..': ${path}` };
  try {
    return { contents: readFileSync(join(chainDir, 'node_modules', path), 'utf8') };
  } catch (e) {
    return { error: `not found: ${path}` };
  }
}

const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImport }));
const errors = (output.errors || []).filter((e) => e.severity === 'error');
for (const e of output.errors || []) console.error(e.formattedMessage);
if (errors.length > 0) process.exit(1);

mkdirSync(outDir, { recursive: true });
for (const file of files) {
  for (const [name, contract] of Object.entries(output.contracts[file] || {})) {
    writeFileSync(join(outDir, `${name}.abi`), JSON.stringify(contract.abi, null, 2) + '\n');
    writeFileSync(join(outDir, `${name}.bin`), contract.evm.bytecode.object);
    console.log(`${name}: ${contract.evm.bytecode.object.length / 2} bytes of creation code`);
  }
}
