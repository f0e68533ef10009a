// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {ERC20Burnable} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Burnable.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

/// @title Stake registry of inference nodes.
/// @notice A node is known by its 32-byte Ed25519 public key (the key it signs results with). Its operator
/// stakes tokens (at least `minStake`), may ask to unstake and withdraws after `unstakeDelay` seconds; tokens
/// waiting out that delay can still be slashed, so an operator cannot run from evidence. An address holding
/// VERIFIER_ROLE slashes on evidence (the hash of what proves the fault) and may eject the node for good.
contract NodeRegistry is AccessControl {
    using SafeERC20 for IERC20;

    bytes32 public constant VERIFIER_ROLE = keccak256("VERIFIER_ROLE");

    struct Node {
        address operator;
        uint256 stake;
        uint256 unstaking;
        uint64 withdrawableAt;
        bool ejected;
    }

    IERC20 public immutable token;
    uint256 public immutable minStake;
    uint64 public immutable unstakeDelay;
    /// @notice Where slashed tokens go: burned when true, sent to `treasury` when false.
    bool public immutable burnSlashed;
    address public immutable treasury;

    mapping(bytes32 nodeKey => Node) private _nodes;

    event NodeRegistered(bytes32 indexed nodeKey, address indexed operator);
    event Staked(bytes32 indexed nodeKey, uint256 amount, uint256 totalStake);
    event UnstakeRequested(bytes32 indexed nodeKey, uint256 amount, uint64 withdrawableAt);
    event Withdrawn(bytes32 indexed nodeKey, address indexed operator, uint256 amount);
    event Slashed(bytes32 indexed nodeKey, uint256 amount, bytes32 indexed evidenceHash, bool burned);
    event Ejected(bytes32 indexed nodeKey, bytes32 indexed evidenceHash);

    error ZeroNodeKey();
    error ZeroAddress();
    error AlreadyRegistered(bytes32 nodeKey);
    error UnknownNode(bytes32 nodeKey);
    error NotOperator(bytes32 nodeKey, address caller);
    error NodeEjected(bytes32 nodeKey);
    error BelowMinimumStake(uint256 stake, uint256 minimum);
    error ZeroAmount();
    error InsufficientStake(uint256 requested, uint256 available);
    error NothingToWithdraw(bytes32 nodeKey);
    error WithdrawalLocked(uint64 withdrawableAt, uint256 nowTime);

    constructor(IERC20 token_, uint256 minStake_, uint64 unstakeDelay_, bool burnSlashed_, address treasury_, address admin)
    {
        if (address(token_) == address(0) || admin == address(0)) revert ZeroAddress();
        if (!burnSlashed_ && treasury_ == address(0)) revert ZeroAddress();
        token = token_;
        minStake = minStake_;
        unstakeDelay = unstakeDelay_;
        burnSlashed = burnSlashed_;
        treasury = treasury_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    /// @notice Registers `nodeKey` to the caller and stakes `amount` (≥ minStake) from the caller's balance
    /// (approve this contract first).
    function register(bytes32 nodeKey, uint256 amount) external {
        if (nodeKey == bytes32(0)) revert ZeroNodeKey();
        if (_nodes[nodeKey].operator != address(0)) revert AlreadyRegistered(nodeKey);
        if (amount < minStake) revert BelowMinimumStake(amount, minStake);
        _nodes[nodeKey].operator = msg.sender;
        emit NodeRegistered(nodeKey, msg.sender);
        _addStake(nodeKey, amount);
    }

    /// @notice Adds `amount` to the stake of a node the caller operates.
    function stake(bytes32 nodeKey, uint256 amount) external {
        Node storage node = _operated(nodeKey);
        if (node.ejected) revert NodeEjected(nodeKey);
        if (amount == 0) revert ZeroAmount();
        if (node.stake + amount < minStake) revert BelowMinimumStake(node.stake + amount, minStake);
        _addStake(nodeKey, amount);
    }

    /// @notice Moves `amount` of stake into the unstaking state; it can be withdrawn `unstakeDelay` seconds
    /// after the latest request (a new request restarts the clock for everything pending).
    function requestUnstake(bytes32 nodeKey, uint256 amount) external {
        Node storage node = _operated(nodeKey);
        if (amount == 0) revert ZeroAmount();
        if (amount > node.stake) revert InsufficientStake(amount, node.stake);
        node.stake -= amount;
        node.unstaking += amount;
        node.withdrawableAt = uint64(block.timestamp) + unstakeDelay;
        emit UnstakeRequested(nodeKey, amount, node.withdrawableAt);
    }

    /// @notice Pays out everything that finished its unstaking delay to the operator.
    function withdraw(bytes32 nodeKey) external {
        Node storage node = _operated(nodeKey);
        uint256 amount = node.unstaking;
        if (amount == 0) revert NothingToWithdraw(nodeKey);
        if (block.timestamp < node.withdrawableAt) revert WithdrawalLocked(node.withdrawableAt, block.timestamp);
        node.unstaking = 0;
        emit Withdrawn(nodeKey, msg.sender, amount);
        token.safeTransfer(msg.sender, amount);
    }

    /// @notice Takes up to `amount` from the node (active stake first, then what is unstaking), burns it or
    /// sends it to the treasury, and ejects the node when `eject` is set. `evidenceHash` names the proof.
    function slash(bytes32 nodeKey, uint256 amount, bytes32 evidenceHash, bool eject) external onlyRole(VERIFIER_ROLE) {
        Node storage node = _nodes[nodeKey];
        if (node.operator == address(0)) revert UnknownNode(nodeKey);
        if (amount == 0 && !eject) revert ZeroAmount();
        uint256 available = node.stake + node.unstaking;
        if (amount > available) revert InsufficientStake(amount, available);
        uint256 fromStake = amount <= node.stake ? amount : node.stake;
        node.stake -= fromStake;
        node.unstaking -= amount - fromStake;
        if (eject && !node.ejected) {
            node.ejected = true;
            emit Ejected(nodeKey, evidenceHash);
        }
        if (amount > 0) {
            emit Slashed(nodeKey, amount, evidenceHash, burnSlashed);
            if (burnSlashed) {
                ERC20Burnable(address(token)).burn(amount);
            } else {
                token.safeTransfer(treasury, amount);
            }
        }
    }

    /// @notice True while the node may receive work: registered, not ejected, staked at least the minimum.
    function isActive(bytes32 nodeKey) external view returns (bool) {
        Node storage node = _nodes[nodeKey];
        return node.operator != address(0) && !node.ejected && node.stake >= minStake;
    }

    function nodeOf(bytes32 nodeKey) external view returns (Node memory) {
        return _nodes[nodeKey];
    }

    function _operated(bytes32 nodeKey) private view returns (Node storage node) {
        node = _nodes[nodeKey];
        if (node.operator == address(0)) revert UnknownNode(nodeKey);
        if (node.operator != msg.sender) revert NotOperator(nodeKey, msg.sender);
    }

    function _addStake(bytes32 nodeKey, uint256 amount) private {
        Node storage node = _nodes[nodeKey];
        node.stake += amount;
        emit Staked(nodeKey, amount, node.stake);
        token.safeTransferFrom(msg.sender, address(this), amount);
    }
}
