"""Chain access: the one package that imports web3 and eth_account.

Everything public here takes and returns plain values and dataclasses (addresses as checksummed strings, hashes
as 0x-hex strings, amounts as ints in micro-units), so the rest of the backend never handles web3 objects.
"""
