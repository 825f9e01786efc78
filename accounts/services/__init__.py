"""What portal users do: onboarding, the audit log, reseller account actions, the phone book."""
