//! Day-2 operations (DESIGN §7): the fleet diff, upgrades as branches, publishing to GitOps.
