# SPDX-License-Identifier: Apache-2.0
"""scep-ra's bridge to a Microsoft Enterprise CA (AD CS) over MS-ICPR or MS-WCCE DCOM."""
