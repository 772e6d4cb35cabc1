"""Output writers: the thi đua workbook, reviewer workbook and HTML reports. Codes and aggregates only."""
