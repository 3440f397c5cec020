"""The local payment token: 6 decimals, an open but bounded faucet, EIP-2612 permit."""

from kit.twin_env import USDC


def test_token_has_six_decimals_and_its_name(env):
    assert env.call("PaymentToken", "decimals") == 6
    assert env.call("PaymentToken", "symbol") == "tUSDC"
    assert env.call("PaymentToken", "name") == "Test USD Coin"


def test_faucet_mints_to_anyone_up_to_the_limit(env, a):
    limit = env.call("PaymentToken", "FAUCET_LIMIT")
    assert limit == 1_000_000 * USDC
    env.tx(a.stranger, "PaymentToken", "faucet", a.brand.address, limit)
    assert env.balance(a.brand) == limit
    assert env.call("PaymentToken", "totalSupply") == limit


def test_faucet_refuses_more_than_the_limit(env, a):
    limit = env.call("PaymentToken", "FAUCET_LIMIT")
    env.refused(
        a.brand, "PaymentToken", "faucet", a.brand.address, limit + 1,
        error="TestStablecoinFaucetLimit", error_args=(limit + 1, limit),
    )
    assert env.balance(a.brand) == 0
    assert env.call("PaymentToken", "totalSupply") == 0


def test_permit_sets_the_allowance_and_uses_the_nonce(env, a):
    spender = a.stranger.address
    deadline = env.now() + 3600
    v, r, s = env.permit(a.brand, 123 * USDC, deadline, spender=spender)
    # Anyone may submit the signed permit.
    env.tx(a.stranger, "PaymentToken", "permit", a.brand.address, spender, 123 * USDC, deadline, v, r, s)
    assert env.call("PaymentToken", "allowance", a.brand.address, spender) == 123 * USDC
    assert env.call("PaymentToken", "nonces", a.brand.address) == 1
    # The same signature cannot be used twice: the nonce moved, so it recovers another signer.
    before = env.digest()
    with env.reverts("ERC2612InvalidSigner"):
        env.tx(a.stranger, "PaymentToken", "permit", a.brand.address, spender, 123 * USDC, deadline, v, r, s)
    assert env.digest() == before


def test_permit_refuses_an_expired_deadline(env, a):
    deadline = env.now() + 10
    v, r, s = env.permit(a.brand, USDC, deadline, spender=a.stranger.address)
    env.advance(60)
    env.refused(
        a.stranger, "PaymentToken", "permit", a.brand.address, a.stranger.address, USDC, deadline, v, r, s,
        error="ERC2612ExpiredSignature", error_args=(deadline,),
    )
    assert env.call("PaymentToken", "allowance", a.brand.address, a.stranger.address) == 0


def test_permit_refuses_a_signature_by_someone_else(env, a):
    deadline = env.now() + 3600
    v, r, s = env.permit(a.brand, USDC, deadline, spender=a.stranger.address, signer=a.stranger)
    env.refused(
        a.stranger, "PaymentToken", "permit", a.brand.address, a.stranger.address, USDC, deadline, v, r, s,
        error="ERC2612InvalidSigner", error_args=(a.stranger.address, a.brand.address),
    )
