// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";

/// @title Test stablecoin for local chains: 6 decimals like USDC, EIP-2612 permit, and an open faucet.
/// @dev On a real network the deployment takes an existing stablecoin instead.
contract TestStablecoin is ERC20, ERC20Permit {
    /// @notice Most the faucet hands out in one call: 1 000 000 tokens.
    uint256 public constant FAUCET_LIMIT = 1_000_000 * 10 ** 6;

    /// @notice The faucet was asked for more than `limit` at once.
    error TestStablecoinFaucetLimit(uint256 requested, uint256 limit);

    constructor() ERC20("Test USD Coin", "tUSDC") ERC20Permit("Test USD Coin") {}

    function decimals() public pure override returns (uint8) {
        return 6;
    }

    /// @notice Mints up to `FAUCET_LIMIT` to `to`. Anyone may call it: this token is worth nothing.
    function faucet(address to, uint256 amount) external {
        if (amount > FAUCET_LIMIT) revert TestStablecoinFaucetLimit(amount, FAUCET_LIMIT);
        _mint(to, amount);
    }
}
