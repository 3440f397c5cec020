"""The project's vocabulary, below everything that uses it: plain Python, no dependency on the rest of the project
nor on web3, so that the chain layer, the database models, the intake, the settler, the API and the demo data can
all import it and none has to import another for a name, a constant or a rule.

- `vocabulary`: usage categories and territories (bit i of the on-chain bitmasks) and their names;
- `shares`: basis points and the contract's split of an amount among payees (remainder to the model);
- `money`: token amounts, exact integers of micro-units, written for people;
- `times`: unix seconds and datetimes written for people and for JSON (ISO 8601 UTC);
- `use_record`: what a use *is*: the one declaration of its signed and committed fields, from which the database
  models, the EIP-712 type and the Merkle leaf encoding are derived.
"""
