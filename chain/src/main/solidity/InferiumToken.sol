// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Burnable} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Burnable.sol";

/// @title Inferium's token: operators stake it, payouts are made in it, the platform's fee share is burned.
/// @notice The whole supply is minted once, to the treasury, at deployment; there is no later minting.
contract InferiumToken is ERC20, ERC20Burnable {
    error ZeroTreasury();

    constructor(string memory name_, string memory symbol_, address treasury, uint256 initialSupply)
        ERC20(name_, symbol_)
    {
        if (treasury == address(0)) revert ZeroTreasury();
        _mint(treasury, initialSupply);
    }
}
