// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";

/// @title Merkle roots of inference receipts, one per epoch.
/// @notice The gateway (ANCHOR_ROLE) commits each epoch's root once; epochs start at 1 and strictly increase,
/// so a root can never be replaced. Anyone checks a receipt leaf against a root with `verify`.
contract ReceiptAnchor is AccessControl {
    bytes32 public constant ANCHOR_ROLE = keccak256("ANCHOR_ROLE");

    struct Anchor {
        bytes32 root;
        uint64 count;
        uint64 anchoredAt;
    }

    mapping(uint64 epoch => Anchor) private _anchors;
    uint64 public latestEpoch;

    event RootCommitted(uint64 indexed epoch, bytes32 root, uint64 count);

    error ZeroAddress();
    error EpochNotAfterLatest(uint64 epoch, uint64 latestEpoch);
    error EmptyEpoch();

    constructor(address admin) {
        if (admin == address(0)) revert ZeroAddress();
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    function commit(uint64 epoch, bytes32 merkleRoot, uint64 count) external onlyRole(ANCHOR_ROLE) {
        if (epoch <= latestEpoch) revert EpochNotAfterLatest(epoch, latestEpoch);
        if (merkleRoot == bytes32(0) || count == 0) revert EmptyEpoch();
        latestEpoch = epoch;
        _anchors[epoch] = Anchor(merkleRoot, count, uint64(block.timestamp));
        emit RootCommitted(epoch, merkleRoot, count);
    }

    function anchorOf(uint64 epoch) external view returns (Anchor memory) {
        return _anchors[epoch];
    }

    /// @notice True when `leaf` (already double-hashed, as OpenZeppelin's StandardMerkleTree builds leaves)
    /// is in the tree whose root was committed for `epoch`; false for an epoch never committed.
    function verify(uint64 epoch, bytes32 leaf, bytes32[] calldata proof) external view returns (bool) {
        bytes32 root = _anchors[epoch].root;
        return root != bytes32(0) && MerkleProof.verifyCalldata(proof, root, leaf);
    }
}
