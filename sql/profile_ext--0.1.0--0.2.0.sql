-- profile_ext 0.1.0 -> 0.2.0.  CREATE EXTENSION profile_ext runs the frozen 0.1.0 script and
-- then this one; ALTER EXTENSION profile_ext UPDATE runs this one alone.  Each concern keeps
-- its own section below, in this order.
\echo Use "ALTER EXTENSION profile_ext UPDATE TO '0.2.0'" to load this file. \quit

-- ============================================================================ install script
-- hygiene: COST, NULL handling and comments of existing functions

-- ============================================================================ stored format
-- version 2: a header readable without decoding the tree

-- ============================================================================ diff ranking

-- ============================================================================ retention and rollups

-- ============================================================================ scale-out
