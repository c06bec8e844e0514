// Real Microsoft 365 SKU ids, part numbers and service plan ids (from Microsoft's "Product names and
// service plan identifiers for licensing" list), so code that hard-codes them works on a real tenant.

export interface ServicePlanDef {
  servicePlanId: string;
  servicePlanName: string;
  appliesTo: 'User' | 'Company';
}

export interface SkuDef {
  skuId: string;
  skuPartNumber: string;
  displayName: string;
  servicePlans: ServicePlanDef[];
}

const plan = (servicePlanName: string, servicePlanId: string): ServicePlanDef => ({ servicePlanId, servicePlanName, appliesTo: 'User' });

export const PLANS = {
  EXCHANGE_S_ENTERPRISE: plan('EXCHANGE_S_ENTERPRISE', 'efb87545-963c-4e0d-99df-69c6916d9eb0'),
  EXCHANGE_S_STANDARD: plan('EXCHANGE_S_STANDARD', '9aaf7827-d63c-4b61-89c3-182f06f82e5c'),
  EXCHANGE_S_DESKLESS: plan('EXCHANGE_S_DESKLESS', '4a82b400-a79f-41a4-b4e2-e94f5787b113'),
  EXCHANGE_S_FOUNDATION: plan('EXCHANGE_S_FOUNDATION', '113feb6c-3fe4-4440-bddc-54d774bf0318'),
  SHAREPOINTENTERPRISE: plan('SHAREPOINTENTERPRISE', '5dbe027f-2339-4123-9542-606e4d348a72'),
  SHAREPOINTSTANDARD: plan('SHAREPOINTSTANDARD', 'c7699d2e-19aa-44de-8edf-1736da088ca1'),
  SHAREPOINTWAC: plan('SHAREPOINTWAC', 'e95bec33-7c88-4a70-8e19-b10bd9d0c014'),
  TEAMS1: plan('TEAMS1', '57ff2da0-773e-42df-b2af-ffb7a2317929'),
  OFFICESUBSCRIPTION: plan('OFFICESUBSCRIPTION', '43de0ff5-c92c-492b-9116-175376d08c38'),
  MCOSTANDARD: plan('MCOSTANDARD', '0feaeb32-d00e-4d66-bd5a-43b5b83db82c'),
  MCOEV: plan('MCOEV', '4828c8ec-dc2e-4779-b502-87ac9ce28ab7'),
  MCOMEETADV: plan('MCOMEETADV', '3e26ee1f-8a5f-4d52-aee2-b81ce45c8f40'),
  SWAY: plan('SWAY', 'a23b959c-7ce8-4e57-9140-b90eb88a9e97'),
  YAMMER_ENTERPRISE: plan('YAMMER_ENTERPRISE', '7547a3fe-08ee-4ccb-b430-5077c5041653'),
  FORMS_PLAN_E3: plan('FORMS_PLAN_E3', '2789c901-c14e-48ab-a76a-be334d9d793a'),
  FORMS_PLAN_E5: plan('FORMS_PLAN_E5', 'e212cbc7-0961-4c40-9825-01117710dcb1'),
  PROJECTWORKMANAGEMENT: plan('PROJECTWORKMANAGEMENT', 'b737dad2-2f6c-4c65-90e3-ca563267e8b9'),
  STREAM_O365_E3: plan('STREAM_O365_E3', '9e700747-8b1d-45e5-ab8d-ef187ceec156'),
  FLOW_O365_P2: plan('FLOW_O365_P2', '76846ad7-7776-4c40-a281-a386362dd1b9'),
  POWERAPPS_O365_P2: plan('POWERAPPS_O365_P2', 'c68f8d98-5534-41c8-bf36-22fa496fa792'),
  BI_AZURE_P2: plan('BI_AZURE_P2', '70d33638-9c74-4d01-bfd3-562de28bd4ba'),
  INTUNE_A: plan('INTUNE_A', 'c1ec4a95-1f05-45b3-a911-aa3fa01094f5'),
  AAD_PREMIUM: plan('AAD_PREMIUM', '41781fb2-bc02-4b7c-bd55-b576c07bb09d'),
  AAD_PREMIUM_P2: plan('AAD_PREMIUM_P2', 'eec0eb4f-6444-4f95-aba0-50c24d67f998'),
  MFA_PREMIUM: plan('MFA_PREMIUM', '8a256a2b-b617-496d-b51b-e76466e88db0'),
  RMS_S_ENTERPRISE: plan('RMS_S_ENTERPRISE', 'bea4c11e-220a-4e6d-8eb8-8ea15d019f90'),
  RMS_S_PREMIUM: plan('RMS_S_PREMIUM', '6c57d4b6-3b23-47a5-9bc9-69f17b4947b3'),
  ATP_ENTERPRISE: plan('ATP_ENTERPRISE', 'f20fedf3-f3c3-43c3-8267-2bfdd51c0939'),
  THREAT_INTELLIGENCE: plan('THREAT_INTELLIGENCE', '8e0c0a52-6a6c-4d40-8370-dd62790dcd70'),
  WIN10_PRO_ENT_SUB: plan('WIN10_PRO_ENT_SUB', '21b439ba-a0ca-424f-a6cc-52f954a5b111'),
  ADALLOM_S_STANDALONE: plan('ADALLOM_S_STANDALONE', '2e2ddb96-6af9-4b1d-a3f0-d6ecfd22edb2'),
  FLOW_P2_VIRAL: plan('FLOW_P2_VIRAL', '50e68c76-46c6-4674-81f9-75456511b170'),
} as const;

const P = PLANS;
const officeCore = [P.SHAREPOINTWAC, P.TEAMS1, P.SWAY, P.YAMMER_ENTERPRISE, P.PROJECTWORKMANAGEMENT, P.FLOW_O365_P2, P.POWERAPPS_O365_P2];

export const SKUS: SkuDef[] = [
  {
    skuId: '05e9a617-0261-4cee-bb44-138d3ef5d965', skuPartNumber: 'SPE_E3', displayName: 'Microsoft 365 E3',
    servicePlans: [P.EXCHANGE_S_ENTERPRISE, P.SHAREPOINTENTERPRISE, P.OFFICESUBSCRIPTION, P.MCOSTANDARD, P.FORMS_PLAN_E3, P.STREAM_O365_E3, ...officeCore, P.INTUNE_A, P.AAD_PREMIUM, P.MFA_PREMIUM, P.RMS_S_ENTERPRISE, P.RMS_S_PREMIUM, P.WIN10_PRO_ENT_SUB],
  },
  {
    skuId: '06ebc4ee-1bb5-47dd-8120-11324bc54e06', skuPartNumber: 'SPE_E5', displayName: 'Microsoft 365 E5',
    servicePlans: [P.EXCHANGE_S_ENTERPRISE, P.SHAREPOINTENTERPRISE, P.OFFICESUBSCRIPTION, P.MCOSTANDARD, P.MCOEV, P.MCOMEETADV, P.FORMS_PLAN_E5, ...officeCore, P.BI_AZURE_P2, P.INTUNE_A, P.AAD_PREMIUM, P.AAD_PREMIUM_P2, P.MFA_PREMIUM, P.RMS_S_ENTERPRISE, P.RMS_S_PREMIUM, P.ATP_ENTERPRISE, P.THREAT_INTELLIGENCE, P.ADALLOM_S_STANDALONE, P.WIN10_PRO_ENT_SUB],
  },
  {
    skuId: '6fd2c87f-b296-42f0-b197-1e91e994b900', skuPartNumber: 'ENTERPRISEPACK', displayName: 'Office 365 E3',
    servicePlans: [P.EXCHANGE_S_ENTERPRISE, P.SHAREPOINTENTERPRISE, P.OFFICESUBSCRIPTION, P.MCOSTANDARD, P.FORMS_PLAN_E3, P.STREAM_O365_E3, ...officeCore, P.RMS_S_ENTERPRISE],
  },
  {
    skuId: 'c7df2760-2c81-4ef7-b578-5b5392b571df', skuPartNumber: 'ENTERPRISEPREMIUM', displayName: 'Office 365 E5',
    servicePlans: [P.EXCHANGE_S_ENTERPRISE, P.SHAREPOINTENTERPRISE, P.OFFICESUBSCRIPTION, P.MCOSTANDARD, P.MCOEV, P.MCOMEETADV, P.FORMS_PLAN_E5, ...officeCore, P.BI_AZURE_P2, P.RMS_S_ENTERPRISE, P.ATP_ENTERPRISE, P.THREAT_INTELLIGENCE],
  },
  {
    skuId: '18181a46-0d4e-45cd-891e-60aabd171b4e', skuPartNumber: 'STANDARDPACK', displayName: 'Office 365 E1',
    servicePlans: [P.EXCHANGE_S_STANDARD, P.SHAREPOINTSTANDARD, P.MCOSTANDARD, ...officeCore],
  },
  {
    skuId: '4b9405b0-7788-4568-add1-99614e613b69', skuPartNumber: 'EXCHANGESTANDARD', displayName: 'Exchange Online (Plan 1)',
    servicePlans: [P.EXCHANGE_S_STANDARD],
  },
  {
    skuId: '19ec0d23-8335-4cbd-94ac-6050e30712fa', skuPartNumber: 'EXCHANGEENTERPRISE', displayName: 'Exchange Online (Plan 2)',
    servicePlans: [P.EXCHANGE_S_ENTERPRISE],
  },
  {
    skuId: '66b55226-6b4f-492c-910c-a3b7a3c9d993', skuPartNumber: 'SPE_F1', displayName: 'Microsoft 365 F3',
    servicePlans: [P.EXCHANGE_S_DESKLESS, P.SHAREPOINTWAC, P.TEAMS1, P.INTUNE_A, P.AAD_PREMIUM, P.MFA_PREMIUM, P.PROJECTWORKMANAGEMENT],
  },
  {
    skuId: 'cbdc14ab-d96c-4c30-b9f4-6ada7cdc1d46', skuPartNumber: 'SPB', displayName: 'Microsoft 365 Business Premium',
    servicePlans: [P.EXCHANGE_S_STANDARD, P.SHAREPOINTSTANDARD, P.OFFICESUBSCRIPTION, P.MCOSTANDARD, ...officeCore, P.INTUNE_A, P.AAD_PREMIUM, P.MFA_PREMIUM, P.ATP_ENTERPRISE, P.RMS_S_PREMIUM],
  },
  {
    skuId: '078d2b04-f1bd-4111-bbd4-b4b1b354cef4', skuPartNumber: 'AAD_PREMIUM', displayName: 'Microsoft Entra ID P1',
    servicePlans: [P.AAD_PREMIUM, P.MFA_PREMIUM],
  },
  {
    skuId: 'efccb6f7-5641-4e0e-bd10-b4976e1bf68e', skuPartNumber: 'EMS', displayName: 'Enterprise Mobility + Security E3',
    servicePlans: [P.INTUNE_A, P.AAD_PREMIUM, P.MFA_PREMIUM, P.RMS_S_PREMIUM],
  },
  {
    skuId: 'f8a1db68-be16-40ed-86d5-cb42ce701560', skuPartNumber: 'POWER_BI_PRO', displayName: 'Power BI Pro',
    servicePlans: [P.BI_AZURE_P2],
  },
  {
    skuId: 'e43b5b99-8dfb-405f-9987-dc307f34bcbd', skuPartNumber: 'MCOEV', displayName: 'Microsoft Teams Phone Standard',
    servicePlans: [P.MCOEV],
  },
  {
    skuId: 'f30db892-07e9-47e9-837c-80727f46fd3d', skuPartNumber: 'FLOW_FREE', displayName: 'Microsoft Power Automate Free',
    servicePlans: [P.FLOW_P2_VIRAL],
  },
];

export const SKU_BY_ID = new Map(SKUS.map((s) => [s.skuId, s]));
export const SKU_BY_PART = new Map(SKUS.map((s) => [s.skuPartNumber, s]));

/** Service plans that give a user a mailbox (drives mailbox provisioning on licence assignment). */
export const EXCHANGE_PLAN_IDS = new Set([P.EXCHANGE_S_ENTERPRISE.servicePlanId, P.EXCHANGE_S_STANDARD.servicePlanId, P.EXCHANGE_S_DESKLESS.servicePlanId]);
