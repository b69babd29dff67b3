//! Corrective and preventive actions (CAPA / 8D).
