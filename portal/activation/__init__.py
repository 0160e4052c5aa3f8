"""Opening a login: client self-activation, staff invitations, activation codes and password resets."""
