"""City operations (一网统管): events and their closed loop; grows with the operations-centre issue."""
