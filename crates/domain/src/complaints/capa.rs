//! Corrective and preventive action (CAPA / 8D) rules.
