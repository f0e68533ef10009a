// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {ERC20Burnable} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Burnable.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";

/// @title Settlement of a payout epoch: claims against a Merkle root, the platform's share burned.
/// @notice The settler (SETTLER_ROLE) opens an epoch with the root of (account, amount) leaves, their total and
/// the platform's share; both are pulled from the settler's balance at once and the share is burned then, so
/// total supply falls by exactly that amount. Each account claims its leaf once; an epoch never pays out more
/// than it was funded with, whatever the root says.
contract PayoutDistributor is AccessControl {
    using SafeERC20 for IERC20;

    bytes32 public constant SETTLER_ROLE = keccak256("SETTLER_ROLE");

    struct Epoch {
        bytes32 root;
        uint256 funded;
        uint256 claimed;
        uint256 burned;
    }

    IERC20 public immutable token;
    uint64 public latestEpoch;
    mapping(uint64 epoch => Epoch) private _epochs;
    mapping(uint64 epoch => mapping(address account => bool)) public claimed;

    event EpochOpened(uint64 indexed epoch, bytes32 root, uint256 payoutTotal, uint256 platformShareBurned);
    event Claimed(uint64 indexed epoch, address indexed account, uint256 amount);

    error ZeroAddress();
    error EpochNotAfterLatest(uint64 epoch, uint64 latestEpoch);
    error ZeroRoot();
    error UnknownEpoch(uint64 epoch);
    error AlreadyClaimed(uint64 epoch, address account);
    error InvalidProof();
    error EpochExhausted(uint64 epoch, uint256 requested, uint256 remaining);

    constructor(IERC20 token_, address admin) {
        if (address(token_) == address(0) || admin == address(0)) revert ZeroAddress();
        token = token_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    function openEpoch(uint64 epoch, bytes32 root, uint256 payoutTotal, uint256 platformShare)
        external
        onlyRole(SETTLER_ROLE)
    {
        if (epoch <= latestEpoch) revert EpochNotAfterLatest(epoch, latestEpoch);
        if (root == bytes32(0)) revert ZeroRoot();
        latestEpoch = epoch;
        _epochs[epoch] = Epoch(root, payoutTotal, 0, platformShare);
        emit EpochOpened(epoch, root, payoutTotal, platformShare);
        token.safeTransferFrom(msg.sender, address(this), payoutTotal + platformShare);
        if (platformShare > 0) {
            ERC20Burnable(address(token)).burn(platformShare);
        }
    }

    /// @notice Pays `amount` to the caller when (caller, amount) is a leaf of the epoch's root.
    function claim(uint64 epoch, uint256 amount, bytes32[] calldata proof) external {
        Epoch storage e = _epochs[epoch];
        if (e.root == bytes32(0)) revert UnknownEpoch(epoch);
        if (claimed[epoch][msg.sender]) revert AlreadyClaimed(epoch, msg.sender);
        bytes32 leaf = keccak256(bytes.concat(keccak256(abi.encode(msg.sender, amount))));
        if (!MerkleProof.verifyCalldata(proof, e.root, leaf)) revert InvalidProof();
        uint256 remaining = e.funded - e.claimed;
        if (amount > remaining) revert EpochExhausted(epoch, amount, remaining);
        claimed[epoch][msg.sender] = true;
        e.claimed += amount;
        emit Claimed(epoch, msg.sender, amount);
        token.safeTransfer(msg.sender, amount);
    }

    function epochOf(uint64 epoch) external view returns (Epoch memory) {
        return _epochs[epoch];
    }
}
