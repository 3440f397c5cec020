// Second implementation for the tests: OpenZeppelin's own JavaScript library builds the tree of the given use
// records (stdin: JSON list of [licenseId, seq, useRef, category, territory, usedAt]) and prints its root, each
// record's proof, and whether the library verifies a given (root, proof, record) triple.
const { StandardMerkleTree } = require("@openzeppelin/merkle-tree");

const TYPES = ["uint256", "uint32", "bytes32", "uint8", "uint8", "uint64"];
let input = "";
process.stdin.on("data", (chunk) => (input += chunk));
process.stdin.on("end", () => {
  const request = JSON.parse(input);
  const values = request.values.map((v) => v.map(String));
  const tree = StandardMerkleTree.of(values, TYPES);
  const out = { root: tree.root, proofs: values.map((_, i) => tree.getProof(i)), checks: [] };
  for (const check of request.checks || []) {
    out.checks.push(StandardMerkleTree.verify(check.root, TYPES, check.value.map(String), check.proof));
  }
  process.stdout.write(JSON.stringify(out));
});
