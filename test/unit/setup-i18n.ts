// vitest setupFiles for the unit tier: the extension's strings come from the English catalogue.
import { useI18n } from '../../extension/src/shared/i18n.js';
import { catalogue } from './i18n-catalogue.js';

useI18n(catalogue('en'));
