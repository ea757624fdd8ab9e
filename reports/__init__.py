"""Everything a person reads: warnings, company reports, exports, the area overview."""
